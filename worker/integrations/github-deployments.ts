import type { Octokit } from '@octokit/rest';
import { IntegrationError } from './errors';
import { handler, type CallContext, type ToolHandler } from './executor';
import { ownerRepo } from './github-client';
import { sleep } from './retry';

/**
 * Live GitHub deployment tools. A rollback creates a deployment of an older ref and waits for
 * the repository's deployer (the workflow or service that acts on `deployment` events) to
 * report success: GitHub itself deploys nothing, so "created" is not "rolled back".
 */

type Ctx = CallContext<Octokit>;
type RepoEnvironment = { repo: string; environment: string };

export interface DeploymentWait {
  timeoutMs: number;
  pollMs: number;
}

interface RestDeployment {
  id: number;
  ref: string;
  sha: string;
  payload: unknown;
  created_at: string;
  creator: { login: string } | null;
}

/** The marker a rollback leaves in its deployment's payload, and the ref it replaced. */
interface RollbackPayload {
  agentrunbook?: { idempotency_key?: string; previous_ref?: string };
}

function rollbackPayload(payload: unknown): RollbackPayload['agentrunbook'] {
  let value = payload;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' ? (value as RollbackPayload).agentrunbook : undefined;
}

/** The latest status of a deployment; one with none yet is pending. */
async function latestState(client: Octokit, repo: string, id: number): Promise<string> {
  const { data } = await client.rest.repos.listDeploymentStatuses({ ...ownerRepo(repo), deployment_id: id, per_page: 1 });
  return data[0]?.state ?? 'pending';
}

async function listRaw(client: Octokit, a: RepoEnvironment, perPage: number): Promise<RestDeployment[]> {
  return (await client.rest.repos.listDeployments({ ...ownerRepo(a.repo), environment: a.environment, per_page: perPage })).data as RestDeployment[];
}

/** How many recent deployments are listed with their statuses (one request each). */
const HISTORY = 10;

async function history(client: Octokit, a: RepoEnvironment, raw?: RestDeployment[]) {
  const recent = (raw ?? (await listRaw(client, a, HISTORY))).slice(0, HISTORY);
  const states = await Promise.all(recent.map((d) => latestState(client, a.repo, d.id)));
  return recent.map((d, i) => ({
    id: d.id,
    ref: d.ref,
    sha: d.sha,
    state: states[i]!,
    created_at: d.created_at,
    creator: d.creator?.login ?? 'ghost',
  }));
}

const listDeployments = handler(async (a: RepoEnvironment, { client }: Ctx) => ({
  repo: a.repo,
  environment: a.environment,
  deployments: await history(client, a),
}));

/**
 * Polls the deployment until the deployer reports an end state. `inactive` counts as success:
 * GitHub only marks a deployment inactive after it succeeded and a newer one replaced it.
 */
async function awaitDeployer(client: Octokit, a: RepoEnvironment, d: RestDeployment, wait: DeploymentWait, signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  for (;;) {
    const state = await latestState(client, a.repo, d.id);
    if (state === 'success' || state === 'inactive') return;
    if (state === 'failure' || state === 'error') {
      throw new IntegrationError('github', 'deployment_failed', `Deployment ${d.id} of ${d.ref} to ${a.environment} ended in ${state}`);
    }
    if (Date.now() - started >= wait.timeoutMs || signal?.aborted) {
      throw new IntegrationError(
        'github',
        'deployment_pending',
        `Deployment ${d.id} of ${d.ref} to ${a.environment} is still ${state} after ${Math.round((Date.now() - started) / 1000)}s; ` +
          'is a deployer listening for deployment events?',
      );
    }
    await sleep(wait.pollMs, signal);
  }
}

/** Creates the deployment of the ref to roll back to, with the call's key and the ref it replaces. */
async function createRollback(client: Octokit, a: RepoEnvironment & { ref?: string }, key: string, raw: RestDeployment[]) {
  const deployments = await history(client, a, raw);
  const currentAt = deployments.findIndex((d) => d.state === 'success');
  const current = deployments[currentAt];
  const target = a.ref ?? deployments.slice(currentAt + 1).find((d) => d.state === 'inactive' && d.ref !== current?.ref)?.ref;
  if (current === undefined || target === undefined) {
    throw new IntegrationError('github', 'conflict', `No earlier successful deployment of ${a.repo} to ${a.environment} to roll back to`);
  }
  const answer = await client.rest.repos.createDeployment({
    ...ownerRepo(a.repo),
    ref: target,
    environment: a.environment,
    // Never merge the default branch into an old ref, and do not block a rollback on the commit
    // statuses of a ref that was live before.
    auto_merge: false,
    required_contexts: [],
    description: `Rollback of ${a.environment} to ${target} by AgentRunbook`,
    payload: { agentrunbook: { idempotency_key: key, previous_ref: current.ref } },
  });
  if (answer.status !== 201 || !('id' in answer.data)) {
    const message = (answer.data as { message?: string }).message ?? `status ${answer.status}`;
    throw new IntegrationError('github', 'conflict', `GitHub did not create the deployment of ${target}: ${message}`);
  }
  return { deployment: answer.data as RestDeployment, previousRef: current.ref };
}

function rollbackDeployment(wait: DeploymentWait) {
  return handler(async (a: RepoEnvironment & { ref?: string }, { client, key, signal }: Ctx) => {
    const raw = await listRaw(client, a, 30);
    const earlier = raw.find((d) => rollbackPayload(d.payload)?.idempotency_key === key);
    const { deployment, previousRef } = earlier
      ? { deployment: earlier, previousRef: rollbackPayload(earlier.payload)?.previous_ref ?? earlier.ref }
      : await createRollback(client, a, key, raw);
    await awaitDeployer(client, a, deployment, wait, signal);
    return {
      repo: a.repo,
      environment: a.environment,
      deployment_id: deployment.id,
      ref: deployment.ref,
      sha: deployment.sha,
      state: 'success',
      previous_ref: previousRef,
    };
  });
}

export function githubDeploymentHandlers(wait: DeploymentWait): Record<string, ToolHandler<Octokit>> {
  return {
    'github.list_deployments': listDeployments,
    'github.rollback_deployment': rollbackDeployment(wait),
  };
}
