import { FakeHttpError, field, json, type FakeApi, type RecordedRequest } from './fake-server';
import type { FakeRepo } from './github-server';

/**
 * The deployments part of the fake GitHub: deployments, their statuses (newest first), the
 * `auto_inactive` rule, and a scripted deployer that answers new deployments as a repository's
 * deployment workflow would.
 */

export interface DeploymentStatus {
  id: number;
  state: string;
  created_at: string;
}

export interface FakeDeployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  payload: unknown;
  description: string | null;
  creator: string;
  created_at: string;
  statuses: DeploymentStatus[];
  /** The end state the deployer will report, and after how many more status reads. */
  pending?: { state: string; reads: number };
}

export interface DeploymentContext {
  existing(params: Record<string, string>): FakeRepo;
  page(req: RecordedRequest, all: unknown[]): Response;
  tick(): string;
  nextId(): number;
  login: string;
  deployer: 'success' | 'failure' | 'none';
  deployerReads: number;
}

function deploymentJson(r: FakeRepo, d: FakeDeployment) {
  return {
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: 'deploy',
    payload: d.payload,
    environment: d.environment,
    description: d.description,
    creator: { login: d.creator },
    created_at: d.created_at,
    updated_at: d.created_at,
    transient_environment: false,
    production_environment: d.environment === 'production',
    statuses_url: `https://api.github.test/repos/${r.full_name}/deployments/${d.id}/statuses`,
  };
}

/** A success marks the environment's earlier successful deployments inactive (`auto_inactive`). */
export function addStatus(ctx: Pick<DeploymentContext, 'tick' | 'nextId'>, r: FakeRepo, d: FakeDeployment, state: string, autoInactive = true) {
  const status = { id: ctx.nextId(), state, created_at: ctx.tick() };
  d.statuses.unshift(status);
  if (state === 'success' && autoInactive) {
    for (const other of r.deployments) {
      if (other !== d && other.environment === d.environment && other.statuses[0]?.state === 'success') {
        other.statuses.unshift({ id: ctx.nextId(), state: 'inactive', created_at: status.created_at });
      }
    }
  }
  return status;
}

function deployment(r: FakeRepo, id: string | undefined): FakeDeployment {
  const d = r.deployments.find((x) => x.id === Number(id));
  if (!d) throw new FakeHttpError(404, 'Not Found');
  return d;
}

export function deploymentRoutes(api: FakeApi, ctx: DeploymentContext): void {
  api
    .on('GET', '/repos/:owner/:repo/deployments', (req, p) => {
      const r = ctx.existing(p);
      const env = req.query.get('environment');
      const list = r.deployments.filter((d) => env === null || d.environment === env).reverse();
      return ctx.page(req, list.map((d) => deploymentJson(r, d)));
    })
    .on('POST', '/repos/:owner/:repo/deployments', (req, p) => {
      const r = ctx.existing(p);
      const ref = field<string>(req.body, 'ref');
      const sha = ref === undefined ? undefined : r.refs.get(ref);
      if (ref === undefined || sha === undefined) {
        return json({ message: `No ref found for: ${ref}`, documentation_url: 'https://docs.github.com/rest' }, 422);
      }
      const d: FakeDeployment = {
        id: ctx.nextId(),
        ref,
        sha,
        environment: field<string>(req.body, 'environment') ?? 'production',
        payload: field(req.body, 'payload') ?? {},
        description: field<string>(req.body, 'description') ?? null,
        creator: ctx.login,
        created_at: ctx.tick(),
        statuses: [],
      };
      r.deployments.push(d);
      if (ctx.deployer !== 'none') {
        addStatus(ctx, r, d, 'in_progress');
        d.pending = { state: ctx.deployer, reads: ctx.deployerReads };
      }
      return json(deploymentJson(r, d), 201);
    })
    .on('GET', '/repos/:owner/:repo/deployments/:id/statuses', (req, p) => {
      const r = ctx.existing(p);
      const d = deployment(r, p.id);
      if (d.pending && --d.pending.reads <= 0) {
        addStatus(ctx, r, d, d.pending.state);
        d.pending = undefined;
      }
      return ctx.page(req, d.statuses);
    })
    .on('POST', '/repos/:owner/:repo/deployments/:id/statuses', (req, p) => {
      const r = ctx.existing(p);
      const state = field<string>(req.body, 'state') ?? 'pending';
      return json(addStatus(ctx, r, deployment(r, p.id), state, field<boolean>(req.body, 'auto_inactive') ?? true), 201);
    });
}
