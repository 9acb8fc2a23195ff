import { PatchStrategy } from '@kubernetes/client-node';
import type { V1Deployment, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import { deploymentTarget } from '../../contract/k8s-args';
import { RelayError } from '../errors';
import { call, callOptions, keepingRaw } from '../kube';
import { defineAction, dryRunParam } from './context';
import type { ActionContext } from './context';

/** Deployment reads, rolling restart, scale and rollback, as kubectl performs them. */

interface DeploymentArgs {
  cluster: string;
  namespace: string;
  name: string;
}

const REVISION = 'deployment.kubernetes.io/revision';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
/** Written beside RESTARTED_AT: the effect key of the run step whose restart made this template. */
export const RESTART_KEY = 'agentrunbook.io/restart-key';
/** Added by the deployment controller to each ReplicaSet's template; not part of the revision. */
const TEMPLATE_HASH = 'pod-template-hash';

const what = (a: DeploymentArgs): string => `deployment ${a.namespace}/${a.name}`;
const target = (ctx: ActionContext, a: DeploymentArgs): string => deploymentTarget({ ...a, cluster: ctx.cluster });
const ref = (ctx: ActionContext, a: DeploymentArgs) => ({ cluster: ctx.cluster, namespace: a.namespace, name: a.name });

const revisionOf = (meta: V1ObjectMeta | undefined): number => {
  const n = Number(meta?.annotations?.[REVISION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
};
/** A deployment the controller has not reconciled yet has no revision annotation: it is on its first. */
const currentRevision = (d: V1Deployment): number => Math.max(1, revisionOf(d.metadata));
const imageOf = (template: V1PodTemplateSpec | undefined): string => template?.spec?.containers?.[0]?.image ?? '';

function readDeployment(ctx: ActionContext, a: DeploymentArgs): Promise<V1Deployment> {
  return call(what(a), () => ctx.kube.apps.readNamespacedDeployment({ name: a.name, namespace: a.namespace }, callOptions(ctx.signal)));
}

function assertNotPaused(d: V1Deployment, a: DeploymentArgs, verb: string): void {
  if (d.spec?.paused) {
    throw new RelayError('precondition_failed', `${what(a)} is paused; resume it (kubectl rollout resume) before you ${verb} it`);
  }
}

export const getDeployment = defineAction<DeploymentArgs>('k8s.get_deployment', async (a, ctx) => {
  const d = await readDeployment(ctx, a);
  return {
    ...ref(ctx, a),
    replicas: d.spec?.replicas ?? 1,
    ready_replicas: d.status?.readyReplicas ?? 0,
    updated_replicas: d.status?.updatedReplicas ?? 0,
    available_replicas: d.status?.availableReplicas ?? 0,
    revision: currentRevision(d),
    image: imageOf(d.spec?.template),
    restarted_at: d.spec?.template?.metadata?.annotations?.[RESTARTED_AT] ?? null,
  };
});

/**
 * The restart an earlier attempt of the same run step already made, found by its effect key on the
 * pod template; undefined when the template carries another key (or none). Its result is rebuilt
 * from the deployment: once the controller has seen the patch (observedGeneration caught up) the
 * current revision is the restart's, before that the restart's is the next one.
 */
function earlierRestart(d: V1Deployment, key: string): { revision: number; previous_revision: number; restarted_at: string } | undefined {
  const annotations = d.spec?.template?.metadata?.annotations ?? {};
  const restartedAt = annotations[RESTARTED_AT];
  if (annotations[RESTART_KEY] !== key || restartedAt === undefined) return undefined;
  const seen = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const revision = currentRevision(d) + (seen ? 0 : 1);
  return { revision, previous_revision: Math.max(1, revision - 1), restarted_at: restartedAt };
}

/**
 * `kubectl rollout restart`: a new pod-template annotation makes the controller roll out a new
 * ReplicaSet. The deployment controller numbers it one past the current revision (the current
 * one is always the highest), which the result reports without waiting for the rollout.
 *
 * A restart is not idempotent (each one rolls every pod), and the attempt key changes on every
 * retry: the patch also writes the step's effect key into the template, so a retry after an
 * ambiguous failure (the patch landed, the answer was lost) finds it and answers without rolling
 * the pods again.
 */
export const restartDeployment = defineAction<DeploymentArgs>('k8s.restart_deployment', async (a, ctx) => {
  const d = await readDeployment(ctx, a);
  const earlier = earlierRestart(d, ctx.effectKey);
  if (earlier) {
    ctx.log.info('restart already done by an earlier attempt of this step; not restarting again', { deployment: what(a), effect_key: ctx.effectKey });
    return { ...ref(ctx, a), ...earlier };
  }
  assertNotPaused(d, a, 'restart');
  // RFC 3339 to the second, exactly as kubectl writes it.
  const restartedAt = new Date(ctx.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  ctx.signal.throwIfAborted();
  await call(what(a), () =>
    ctx.kube.apps.patchNamespacedDeployment(
      {
        name: a.name,
        namespace: a.namespace,
        body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt, [RESTART_KEY]: ctx.effectKey } } } } },
        dryRun: dryRunParam(ctx),
      },
      callOptions(ctx.signal, PatchStrategy.StrategicMergePatch),
    ),
  );
  ctx.record({
    method: 'PATCH',
    target: target(ctx, a),
    description: `Set the ${RESTARTED_AT}=${restartedAt} and ${RESTART_KEY}=${ctx.effectKey} pod-template annotations`,
  });
  const previous = currentRevision(d);
  return { ...ref(ctx, a), revision: previous + 1, previous_revision: previous, restarted_at: restartedAt };
});

/** Through the scale subresource, as `kubectl scale` does; no write when the count already matches. */
export const scaleDeployment = defineAction<DeploymentArgs & { replicas: number }>('k8s.scale_deployment', async (a, ctx) => {
  const scale = await call(what(a), () =>
    ctx.kube.apps.readNamespacedDeploymentScale({ name: a.name, namespace: a.namespace }, callOptions(ctx.signal)),
  );
  const previous = scale.spec?.replicas ?? 0;
  if (previous !== a.replicas) {
    await call(what(a), () =>
      ctx.kube.apps.patchNamespacedDeploymentScale(
        { name: a.name, namespace: a.namespace, body: { spec: { replicas: a.replicas } }, dryRun: dryRunParam(ctx) },
        callOptions(ctx.signal, PatchStrategy.MergePatch),
      ),
    );
    ctx.record({ method: 'PATCH', target: `${target(ctx, a)}/scale`, description: `Set spec.replicas=${a.replicas} (was ${previous})` });
  }
  return { ...ref(ctx, a), replicas: a.replicas, previous_replicas: previous };
});

/** A ReplicaSet as the API server sent it (raw JSON, see `keepingRaw`). */
interface RawReplicaSet {
  metadata?: { annotations?: Record<string, string>; ownerReferences?: { uid?: string; controller?: boolean }[] };
  spec?: { template?: V1PodTemplateSpec & { metadata?: { labels?: Record<string, string> } } };
}

/** The deployment's revision history: its ReplicaSets by revision number. */
async function history(ctx: ActionContext, a: DeploymentArgs, d: V1Deployment): Promise<Map<number, RawReplicaSet>> {
  const matchLabels = d.spec?.selector?.matchLabels ?? {};
  const labelSelector = Object.entries(matchLabels).map(([k, v]) => `${k}=${v}`).join(',') || undefined;
  const { options, raw } = keepingRaw(ctx.signal);
  await call(`replicasets of ${what(a)}`, () =>
    ctx.kube.apps.listNamespacedReplicaSet({ namespace: a.namespace, labelSelector }, options),
  );
  const items = ((raw() as { items?: RawReplicaSet[] } | undefined)?.items ?? []).filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.controller === true && o.uid === d.metadata?.uid),
  );
  const byRevision = new Map<number, RawReplicaSet>();
  for (const rs of items) {
    const revision = revisionOf(rs.metadata as V1ObjectMeta);
    if (revision > 0) byRevision.set(revision, rs);
  }
  return byRevision;
}

/**
 * On the Deployment's own metadata (the template must stay exactly the old revision's, so the
 * controller adopts that ReplicaSet): the effect key of the run step whose rollback this was, and
 * what it reported.
 */
export const ROLLBACK_MARK = 'agentrunbook.io/rollback';

interface RollbackResult {
  revision: number;
  rolled_back_to: number;
  previous_revision: number;
  image: string;
  previous_image: string;
}

/** The rollback an earlier attempt of the same run step already made, from its mark; undefined if none. */
function earlierRollback(d: V1Deployment, key: string): RollbackResult | undefined {
  const mark = d.metadata?.annotations?.[ROLLBACK_MARK];
  if (mark === undefined) return undefined;
  try {
    const { key: marked, ...result } = JSON.parse(mark) as RollbackResult & { key?: unknown };
    return marked === key ? result : undefined;
  } catch {
    return undefined; // not ours to read: someone edited it
  }
}

/**
 * `kubectl rollout undo`: copy the pod template of the chosen revision's ReplicaSet into the
 * deployment (a JSON patch replacing `/spec/template`). The controller then adopts that
 * ReplicaSet as revision max+1, which the result reports.
 *
 * Repeating a rollback is worse than useless: "the previous revision" is then the one just rolled
 * away from, and a named revision has been renumbered. So the same patch marks the Deployment with
 * the step's effect key and result, and a later attempt of the step answers from the mark.
 */
export const rollbackDeployment = defineAction<DeploymentArgs & { revision?: number }>('k8s.rollback_deployment', async (a, ctx) => {
  const d = await readDeployment(ctx, a);
  const earlier = earlierRollback(d, ctx.effectKey);
  if (earlier) {
    ctx.log.info('rollback already done by an earlier attempt of this step; not rolling back again', { deployment: what(a), effect_key: ctx.effectKey });
    return { ...ref(ctx, a), ...earlier };
  }
  assertNotPaused(d, a, 'roll back');
  const current = currentRevision(d);
  const revisions = await history(ctx, a, d);
  const known = [...revisions.keys()].sort((x, y) => x - y);
  const wanted = a.revision ?? known.filter((r) => r < current).pop();
  if (wanted === undefined) {
    throw new RelayError('not_found', `${what(a)} has no revision before ${current} to roll back to (its revisionHistoryLimit may have pruned it)`);
  }
  if (wanted === current) throw new RelayError('precondition_failed', `revision ${wanted} of ${what(a)} is already the current one`);
  const rs = revisions.get(wanted);
  const template = rs?.spec?.template;
  if (!template) {
    throw new RelayError('not_found', `revision ${wanted} not found in the history of ${what(a)} (available: ${known.join(', ') || 'none'})`);
  }
  const restored = structuredClone(template);
  if (restored.metadata?.labels) delete restored.metadata.labels[TEMPLATE_HASH];
  const result: RollbackResult = {
    revision: Math.max(current, ...known) + 1,
    rolled_back_to: wanted,
    previous_revision: current,
    image: imageOf(template),
    previous_image: imageOf(d.spec?.template),
  };
  const mark = JSON.stringify({ key: ctx.effectKey, ...result });
  // A JSON patch cannot add a key under a missing map; the controller's revision annotation means it is rarely missing.
  const marking = d.metadata?.annotations
    ? { op: 'add', path: `/metadata/annotations/${ROLLBACK_MARK.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: mark }
    : { op: 'add', path: '/metadata/annotations', value: { [ROLLBACK_MARK]: mark } };
  ctx.signal.throwIfAborted();
  await call(what(a), () =>
    ctx.kube.apps.patchNamespacedDeployment(
      { name: a.name, namespace: a.namespace, body: [{ op: 'replace', path: '/spec/template', value: restored }, marking], dryRun: dryRunParam(ctx) },
      callOptions(ctx.signal, PatchStrategy.JsonPatch),
    ),
  );
  ctx.record({ method: 'PATCH', target: target(ctx, a), description: `Replace the pod template with revision ${wanted}'s (rollout undo); mark it with ${ROLLBACK_MARK}` });
  return { ...ref(ctx, a), ...result };
});
