import { z } from 'zod';
import { defineTool, op } from './define';
import { repoArg } from './github-args';
import { HEX, readEntity, rng, simTime } from './sim';
import { ToolError } from './types';
import type { SimWorld } from './types';

/**
 * GitHub deployment tools. A rollback is a new deployment of an older ref (high risk: it ships
 * code to the environment); its inverse is another deployment of the ref it replaced.
 */

const deployment = z.object({
  id: z.number().int().positive(),
  ref: z.string(),
  sha: z.string(),
  state: z
    .enum(['success', 'inactive', 'failure', 'error', 'in_progress', 'queued', 'pending'])
    .describe('The latest status; "inactive" marks a deployment that succeeded and was later replaced.'),
  created_at: z.string(),
  creator: z.string(),
});
type Deployment = z.infer<typeof deployment>;

const repoEnvironment = z
  .object({
    repo: repoArg,
    environment: z.string().min(1).describe('The deployment environment, e.g. "production".'),
  })
  .strict();
type RepoEnvironment = z.infer<typeof repoEnvironment>;

const HOUR_MS = 3_600_000;

/** A history nobody in this run has touched: the latest deploy succeeded, and one older may have failed. */
function generatedHistory(a: RepoEnvironment): Deployment[] {
  const r = rng('github-deployments', a.repo, a.environment);
  const [major, minor] = [r.int(1, 4), r.int(5, 40)];
  const failed = r.chance(0.5) ? r.int(1, 3) : -1;
  let id = r.int(400_000_000, 900_000_000);
  let hoursAgo = r.int(2, 30);
  return Array.from({ length: 6 }, (_, i) => {
    id -= r.int(1, 5000);
    hoursAgo += i === 0 ? 0 : r.int(6, 72);
    return {
      id,
      ref: `v${major}.${minor}.${10 - i}`,
      sha: r.chars(40, HEX),
      state: i === 0 ? 'success' : i === failed ? 'failure' : 'inactive',
      created_at: simTime(-hoursAgo * HOUR_MS),
      creator: r.pick(['deploy-bot', 'mchen', 'apatel']),
    };
  });
}

const deploymentsTarget = (a: RepoEnvironment): string =>
  `github:${a.repo}/deployments?environment=${a.environment}`;
const historyKey = (a: RepoEnvironment): string => `github:deployments:${a.repo}/${a.environment}`;
const readHistory = (world: SimWorld, a: RepoEnvironment): Deployment[] =>
  readEntity(world, historyKey(a), () => generatedHistory(a));

const listDeployments = defineTool({
  id: 'github.list_deployments',
  description: 'List the recent deployments of a repository to an environment, newest first, with their latest status.',
  args: repoEnvironment,
  result: z.object({ repo: z.string(), environment: z.string(), deployments: z.array(deployment) }),
  mutating: false,
  risk: 'low',
  dryRun: (a) => [op('GET', deploymentsTarget(a), 'List deployments and their statuses')],
  simulate: (a, { world }) => ({ repo: a.repo, environment: a.environment, deployments: readHistory(world, a) }),
});

const rollbackDeployment = defineTool({
  id: 'github.rollback_deployment',
  description:
    'Create a new deployment of an earlier ref; by default the last ref that deployed successfully before the current one.',
  args: repoEnvironment.extend({
    ref: z.string().min(1).optional().describe('The ref to deploy; omitted, the last successful ref before the current one.'),
  }),
  result: z.object({
    repo: z.string(),
    environment: z.string(),
    deployment_id: z.number().int().positive(),
    ref: z.string(),
    sha: z.string(),
    state: z.literal('success'),
    previous_ref: z.string().describe('The ref that was live before the rollback.'),
  }),
  mutating: true,
  risk: 'high',
  compensation: {
    tool: 'github.rollback_deployment',
    args: (a, result) => ({ repo: a.repo, environment: a.environment, ref: result.previous_ref }),
  },
  dryRun: (a) => [
    ...(a.ref ? [] : [op('GET', deploymentsTarget(a), 'Find the last successful ref before the current one')]),
    op('POST', `github:${a.repo}/deployments`, `Deploy ${a.ref ?? 'that ref'} to ${a.environment}`),
  ],
  simulate: (a, { world }) => {
    const history = readHistory(world, a);
    const current = history.find((d) => d.state === 'success');
    const target = a.ref
      ? history.find((d) => d.ref === a.ref)
      : history.find((d) => d.state === 'inactive' && d.ref !== current?.ref);
    const ref = a.ref ?? target?.ref;
    if (current === undefined || ref === undefined) {
      throw new ToolError(`no earlier successful deployment of ${a.repo} to ${a.environment}`);
    }
    const created: Deployment = {
      id: Math.max(...history.map((d) => d.id)) + rng('github-deploy-id', a, history.length).int(1, 5000),
      ref,
      sha: target?.sha ?? rng('github-sha', a.repo, ref).chars(40, HEX),
      state: 'success',
      created_at: simTime(history.length * 60_000),
      creator: 'agentrunbook[bot]',
    };
    // GitHub marks the replaced deployment inactive once the new one succeeds.
    const older = history.map((d) => (d.state === 'success' ? { ...d, state: 'inactive' as const } : d));
    world.set(historyKey(a), [created, ...older]);
    return {
      repo: a.repo,
      environment: a.environment,
      deployment_id: created.id,
      ref,
      sha: created.sha,
      state: 'success' as const,
      previous_ref: current.ref,
    };
  },
});

export const githubDeploymentTools = [listDeployments, rollbackDeployment];
