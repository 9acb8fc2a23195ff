import type { V1Eviction, V1Pod } from '@kubernetes/client-node';
import { parseDuration } from '../../contract/duration';
import { nodeTarget, podTarget } from '../../contract/k8s-args';
import { RelayError } from '../errors';
import { apiStatus, callOptions, isApiError, toRelayError } from '../kube';
import { defineAction } from './context';
import type { ActionContext } from './context';
import { nodeWhat, podRef, podsOnNode, readNode, setUnschedulable } from './nodes';
import type { NodeArgs } from './nodes';

/**
 * `kubectl drain` through the Eviction API: cordon, then evict every pod except DaemonSet and
 * mirror pods, retrying while a PodDisruptionBudget refuses (429) until the timeout, then wait
 * until the evicted pods are gone. Each eviction is journaled under the request's idempotency
 * key before it is requested and again once it is accepted, so a relay killed mid-drain resumes
 * without evicting twice and still reports every pod it evicted.
 */

interface DrainArgs extends NodeArgs {
  grace_period_seconds?: number;
  timeout?: string;
}

/**
 * The journal kept under the idempotency key: each pod whose eviction was requested, and whether
 * the API server accepted it. An entry still `done: false` after a crash is settled on resume by
 * looking at the pod: gone or terminating means the eviction took effect.
 */
interface DrainProgress {
  pods: { ref: string; uid: string; done: boolean }[];
}

type SkipReason = 'daemonset' | 'mirror';

interface DrainPlan {
  evict: V1Pod[];
  skipped: { pod: string; reason: SkipReason }[];
  /** Pods no controller would recreate: evicting them loses them, so the drain refuses. */
  unmanaged: V1Pod[];
  self: V1Pod | undefined;
}

const controllerOf = (pod: V1Pod) => pod.metadata?.ownerReferences?.find((o) => o.controller === true);
const isFinished = (pod: V1Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Sorts a node's pods the way `kubectl drain` does (without `--force`). */
export function planDrain(pods: V1Pod[], self: ActionContext['self']): DrainPlan {
  const plan: DrainPlan = { evict: [], skipped: [], unmanaged: [], self: undefined };
  for (const pod of pods) {
    const meta = pod.metadata ?? {};
    if (meta.annotations?.['kubernetes.io/config.mirror'] !== undefined) plan.skipped.push({ pod: podRef(pod), reason: 'mirror' });
    else if (controllerOf(pod)?.kind === 'DaemonSet') plan.skipped.push({ pod: podRef(pod), reason: 'daemonset' });
    else if (self && meta.namespace === self.namespace && meta.name === self.name) plan.self = pod;
    // Already being deleted (by an earlier attempt or someone else): nothing to evict.
    else if (meta.deletionTimestamp) continue;
    else if (!controllerOf(pod) && !isFinished(pod)) plan.unmanaged.push(pod);
    else plan.evict.push(pod);
  }
  return plan;
}

type EvictOutcome = { kind: 'evicted' } | { kind: 'gone' } | { kind: 'blocked'; reason: string };

async function evict(ctx: ActionContext, node: string, pod: V1Pod, grace: number | undefined): Promise<EvictOutcome> {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const body: V1Eviction = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace },
    deleteOptions: {
      gracePeriodSeconds: grace,
      // Evict exactly the pod that was listed, not a namesake recreated since (a StatefulSet's).
      preconditions: { uid: pod.metadata?.uid },
      dryRun: ctx.dryRun ? ['All'] : undefined,
    },
  };
  const target = podTarget({ cluster: ctx.cluster, namespace, pod: name });
  try {
    await ctx.kube.core.createNamespacedPodEviction(
      { name, namespace, body, dryRun: ctx.dryRun ? 'All' : undefined },
      callOptions(ctx.signal),
    );
  } catch (err) {
    if (isApiError(err, 429)) {
      const status = apiStatus(err);
      const reason = status?.details?.causes?.find((c) => c.reason === 'DisruptionBudget')?.message ?? status?.message ?? 'refused';
      if (ctx.dryRun) ctx.record({ method: 'EVICT', target, description: `Evict from ${node}; refused now by a PodDisruptionBudget: ${reason}` });
      return { kind: 'blocked', reason };
    }
    // Gone already, or the name now belongs to a new pod (uid precondition failed).
    if (isApiError(err, 404) || isApiError(err, 409)) return { kind: 'gone' };
    const mapped = toRelayError(err, `pod ${namespace}/${name}`);
    // The API server answers 500 when a pod matches several budgets; retrying cannot help.
    if (isApiError(err, 500) && /more than one PodDisruptionBudget/i.test(mapped.message)) {
      throw new RelayError('precondition_failed', mapped.message);
    }
    throw mapped;
  }
  ctx.record({
    method: 'EVICT',
    target,
    description: `Evict from ${node}${grace === undefined ? '' : ` with a ${grace}s grace period`}`,
  });
  return { kind: 'evicted' };
}

function deadlineOf(a: DrainArgs, ctx: ActionContext): number {
  const timeout = a.timeout === undefined ? undefined : parseDuration(a.timeout);
  return timeout === undefined ? ctx.deadline : Math.min(ctx.deadline, ctx.now() + timeout);
}

const list = (refs: string[], max = 10): string =>
  refs.length <= max ? refs.join(', ') : `${refs.slice(0, max).join(', ')} and ${refs.length - max} more`;

export const drainNode = defineAction<DrainArgs>('k8s.drain_node', async (a, ctx) => {
  const deadline = deadlineOf(a, ctx);
  const node = await readNode(ctx, a.node);
  const plan = planDrain(await podsOnNode(ctx, a.node), ctx.self);

  // Refuse before cordoning, so a drain that cannot finish changes nothing.
  if (plan.unmanaged.length > 0) {
    throw new RelayError(
      'precondition_failed',
      `${nodeWhat(a.node)} runs pods no controller manages, which an eviction would lose: ${list(plan.unmanaged.map(podRef))}`,
    );
  }
  const outside = plan.evict.filter((p) => !ctx.allowlist.allowsNamespace(p.metadata?.namespace ?? ''));
  if (outside.length > 0) {
    throw new RelayError(
      'namespace_not_allowed',
      `draining ${nodeWhat(a.node)} would evict pods outside ALLOWED_NAMESPACES (${ctx.allowlist.describeNamespaces()}): ${list(outside.map(podRef))}`,
    );
  }

  ctx.signal.throwIfAborted();
  if (node.spec?.unschedulable !== true) await setUnschedulable(ctx, a.node, true);
  if (plan.self) {
    ctx.record({ method: 'SKIP', target: nodeTarget(a), description: `Not evicting ${podRef(plan.self)}: the relay's own pod` });
    ctx.log.warn('drain leaves the relay running on the node it drains', { node: a.node });
  }

  const journal: DrainProgress = ctx.progress.get<DrainProgress>() ?? { pods: [] };
  const entry = (pod: V1Pod) => journal.pods.find((e) => e.uid === pod.metadata?.uid);
  const listed = new Set(plan.evict.map((p) => p.metadata?.uid));
  for (const e of journal.pods) if (!e.done && !listed.has(e.uid)) e.done = true;
  const evictedRefs = () => journal.pods.filter((e) => e.done).map((e) => e.ref);

  let pending = plan.evict.filter((p) => !entry(p)?.done);
  const wouldEvict: string[] = [];
  for (;;) {
    const blocked: { pod: string; reason: string }[] = [];
    const next: V1Pod[] = [];
    for (const pod of pending) {
      // Cancelled or past the deadline: no further eviction starts, even between two that succeed at once.
      ctx.signal.throwIfAborted();
      if (ctx.dryRun) wouldEvict.push(podRef(pod));
      else if (!entry(pod)) {
        journal.pods.push({ ref: podRef(pod), uid: pod.metadata?.uid ?? '', done: false });
        await ctx.progress.set(journal);
      }
      const outcome = await evict(ctx, a.node, pod, a.grace_period_seconds);
      if (outcome.kind === 'blocked') {
        blocked.push({ pod: podRef(pod), reason: outcome.reason });
        next.push(pod);
      } else if (!ctx.dryRun) {
        // Gone before this eviction: not ours to report.
        if (outcome.kind === 'gone') journal.pods = journal.pods.filter((e) => e !== entry(pod));
        else entry(pod)!.done = true;
        await ctx.progress.set(journal);
      }
    }
    pending = ctx.dryRun ? [] : next;
    if (pending.length === 0) break;
    if (ctx.now() + ctx.pollIntervalMs > deadline) {
      const evicted = evictedRefs();
      throw new RelayError(
        'pdb_blocked',
        `PodDisruptionBudgets still refuse to evict ${list(blocked.map((b) => `${b.pod} (${b.reason})`), 5)}; ` +
          `${evicted.length} pod(s) were evicted and ${nodeWhat(a.node)} stays cordoned`,
        true,
        { evicted_pods: evicted, blocked },
      );
    }
    ctx.log.info('evictions blocked by PodDisruptionBudgets; retrying', { node: a.node, blocked: blocked.length });
    await ctx.sleep(ctx.pollIntervalMs);
  }

  if (!ctx.dryRun) await waitUntilGone(ctx, a.node, journal, deadline);
  const evicted = ctx.dryRun ? wouldEvict : evictedRefs();
  return { cluster: ctx.cluster, node: a.node, cordoned: true as const, evicted: evicted.length, evicted_pods: evicted, skipped: plan.skipped };
});

/** Like `kubectl drain`, finishes only when the evicted pods have left the node (or the deadline passes). */
async function waitUntilGone(ctx: ActionContext, node: string, journal: DrainProgress, deadline: number): Promise<void> {
  const uids = new Set(journal.pods.filter((e) => e.done).map((e) => e.uid));
  for (;;) {
    const remaining = (await podsOnNode(ctx, node)).filter((p) => uids.has(p.metadata?.uid ?? ''));
    if (remaining.length === 0) return;
    if (ctx.now() + ctx.pollIntervalMs > deadline) {
      throw new RelayError(
        'deadline_exceeded',
        `evicted pods are still terminating on ${nodeWhat(node)}: ${list(remaining.map(podRef))}`,
        true,
        { evicted_pods: journal.pods.filter((e) => e.done).map((e) => e.ref), terminating: remaining.map(podRef) },
      );
    }
    await ctx.sleep(ctx.pollIntervalMs);
  }
}
