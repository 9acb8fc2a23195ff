import { isK8sAction } from '../../k8s-relay/contract/protocol';
import { makeDb } from '../db/client';
import type { Env } from '../env';
import type { LiveCall } from '../runs/invoke';
import { log } from '../observability/log';
import { getTool } from '../tools/catalog';
import { ToolError } from '../tools/types';
import { DEADLINE_GRACE_MS, connectWaitFor, deadlineFor, toolErrorOf } from './errors';
import { getCluster } from './store';
import type { CallOutcome, ClusterCall } from './types';

/** One Durable Object per tenant and cluster name; the id includes the tenant (DESIGN §8). */
export function clusterStub(env: Env, tenantId: string, name: string) {
  return env.CLUSTERS.get(env.CLUSTERS.idFromName(`${tenantId}:${name}`));
}

const LIVE_CACHE_MS = 30_000;
const LIVE_CACHE_MAX = 5_000;
const liveCache = new Map<string, { live: boolean; until: number }>();

/**
 * Whether a k8s call on `clusterName` goes to a relay: the tenant registered that cluster and has
 * not revoked it. Other cluster names stay simulated (demos keep working). Cached per isolate for
 * 30 s; the cluster's Durable Object checks again before anything is sent, so a revoked cluster
 * never acts even while this cache still says live.
 */
export async function isLiveCluster(env: Env, tenantId: string, clusterName: string): Promise<boolean> {
  const key = `${tenantId}:${clusterName}`;
  const hit = liveCache.get(key);
  if (hit && hit.until > Date.now()) return hit.live;
  const live = Boolean(await getCluster(makeDb(env.DB), tenantId, clusterName));
  if (liveCache.size >= LIVE_CACHE_MAX) liveCache.clear();
  liveCache.set(key, { live, until: Date.now() + LIVE_CACHE_MS });
  return live;
}

/** Drops this isolate's cached answer after a registration or revocation. */
export function forgetCluster(tenantId: string, clusterName: string): void {
  liveCache.delete(`${tenantId}:${clusterName}`);
}

/**
 * The cluster half of the run's live backends: every k8s tool goes to the relay of the cluster
 * named in its `cluster` argument (read at call time, as executorFor only knows the tool). Whether
 * a call is live at all is `isLiveCluster`'s decision, made per call by the caller.
 */
export function clusterBackend(env: Env): { executorFor(tenantId: string, toolId: string): Promise<{ call: LiveCall; secrets: string[] } | undefined> } {
  return {
    async executorFor(tenantId, toolId) {
      if (!isK8sAction(toolId)) return undefined;
      // The relay never sees or returns the token or the signing key: nothing to scrub.
      return { call: (c) => callCluster(env, tenantId, c), secrets: [] };
    },
  };
}

const RPC_ATTEMPTS = 3;

/** Sends a k8s tool call through the cluster's Durable Object to its relay; returns the tool's result. */
export async function callCluster(env: Env, tenantId: string, c: Parameters<LiveCall>[0], opts: { connectWaitMs?: number; dryRun?: boolean } = {}): Promise<unknown> {
  const tool = getTool(c.tool);
  if (!tool || !isK8sAction(c.tool)) throw new ToolError(`${c.tool} is not a Kubernetes tool`, false, 'invalid_request');
  const cluster = c.args.cluster;
  if (typeof cluster !== 'string' || !cluster) throw new ToolError(`${c.tool} needs a "cluster" argument`, false, 'invalid_args');
  // Given up already: nothing is sent.
  if (c.signal.aborted) throw new ToolError(`${c.tool} on cluster "${cluster}" was abandoned before it was sent`, true, 'timeout');
  const connectWaitMs = opts.connectWaitMs ?? connectWaitFor(c.timeoutMs);
  const call: ClusterCall = {
    tenantId,
    cluster,
    action: c.tool,
    args: c.args,
    idempotencyKey: c.idempotencyKey,
    ...(c.effectKey !== undefined ? { effectKey: c.effectKey } : {}),
    deadlineMs: deadlineFor(c.timeoutMs, Date.now()),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(connectWaitMs !== undefined ? { connectWaitMs } : {}),
  };
  const outcome = await bounded(rpc(env, call), call, c.signal, () => cancel(env, call));
  if (!outcome.ok) throw toolErrorOf(cluster, c.tool, outcome.error);
  const result = tool.result.safeParse(outcome.result);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; ');
    throw new ToolError(`relay for cluster "${cluster}" answered ${c.tool} in an unexpected shape: ${issues}`, false, 'bad_response');
  }
  return result.data;
}

/**
 * Calls the Durable Object, retrying when the call to it broke (it restarted, moved, or the
 * connection dropped). Safe: a repeated call with the same idempotency key attaches to the first.
 */
async function rpc(env: Env, call: ClusterCall): Promise<CallOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await clusterStub(env, call.tenantId, call.cluster).call(call);
    } catch (err) {
      const e = err as { message?: string; overloaded?: boolean };
      const backoff = 250 * 4 ** (attempt - 1);
      if (e.overloaded === true || attempt >= RPC_ATTEMPTS || Date.now() + backoff >= call.deadlineMs) {
        throw new ToolError(`the hub could not reach cluster "${call.cluster}"'s connection (${e.message ?? String(err)})`, e.overloaded !== true, 'relay_unavailable');
      }
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}

/**
 * Asks the cluster's Durable Object to cancel the call (an AbortSignal cannot cross the RPC
 * boundary, so the abort is relayed by hand); it tells the relay. The caller does not wait for it.
 */
function cancel(env: Env, call: ClusterCall): void {
  clusterStub(env, call.tenantId, call.cluster)
    .cancel(call.idempotencyKey)
    .catch((err: unknown) => log.warn('could not cancel a relay call; the relay stops at its deadline', { cluster: call.cluster, action: call.action, error: String(err) }));
}

/** The hub answers by the deadline plus its grace; past this margin more, its answer is not coming. */
const HUB_SILENCE_MARGIN_MS = 5_000;

/**
 * The hub's answer, or a rejection as soon as the caller gives up (the step's timeout, a cancelled
 * run; `onAbort` then cancels the call) or the deadline passes with no answer even from the hub: the caller is released on time
 * whatever happens to the relay or the Durable Object. The relay stops at the deadline on its own.
 */
function bounded(work: Promise<CallOutcome>, call: ClusterCall, signal: AbortSignal, onAbort: () => void): Promise<CallOutcome> {
  const what = `${call.action} on cluster "${call.cluster}"`;
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    };
    const abort = () => {
      stop();
      onAbort();
      reject(new ToolError(`${what} was abandoned before the relay answered`, true, 'timeout'));
    };
    const timer = setTimeout(() => {
      stop();
      reject(new ToolError(`${what} got no answer by its deadline`, true, 'deadline_exceeded'));
    }, Math.max(0, call.deadlineMs + DEADLINE_GRACE_MS + HUB_SILENCE_MARGIN_MS - Date.now()));
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (outcome) => {
        stop();
        resolve(outcome);
      },
      (err: unknown) => {
        stop();
        reject(err);
      },
    );
  });
}
