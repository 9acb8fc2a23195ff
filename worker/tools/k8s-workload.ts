import type { z } from 'zod';
import { defineTool, op } from './define';
import { deploymentTarget, podTarget, type deploymentArgs } from '../../k8s-relay/contract/k8s-args';
import { K8S_TOOLS, MAX_LOG_TAIL } from '../../k8s-relay/contract/k8s-tools';
import { readEntity, rng, simTime } from './sim';
import { ToolError } from './types';
import type { SimWorld, ToolCallContext } from './types';

/**
 * Deployment and pod tools. Risk: a restart replaces pods gradually (medium); scaling changes
 * capacity (medium — scaling to 0 is an outage, but the previous count restores it); a rollback
 * ships an older pod template to production (high). Scale and rollback have inverses from their
 * results; a restart has none (there is nothing to go back to).
 */

type DeploymentRef = z.infer<typeof deploymentArgs>;

/** A deployment as earlier calls in the run left it, at `deployment:<cluster>/<ns>/<name>`. */
interface DeploymentState {
  replicas: number;
  revision: number;
  /** Images of revisions this run created (restarts, rollbacks); older ones are generated. */
  images: Record<string, string>;
  restarted_at: string | null;
  /** The step whose restart made the current revision (see the restart tool). */
  restart?: { key: string; revision: number };
  /** The last rollback's step and what it reported (see the rollback tool). */
  rollback?: { key: string; result: RollbackResult };
}

interface RollbackResult {
  revision: number;
  rolled_back_to: number;
  previous_revision: number;
  image: string;
  previous_image: string;
}

/**
 * What a restart or rollback is marked with, as the relay marks it in the cluster: the step's
 * effect key (the same for every attempt), else the attempt's key. A retry after an ambiguous
 * failure then finds the earlier attempt's work, in the simulation as in a live cluster. Not
 * rebuilt from runId and stepId: a compensation runs under the step's id and must act.
 */
const stepMark = (ctx: ToolCallContext): string => ctx.effectKey ?? ctx.idempotencyKey;

const deploymentKey = (a: DeploymentRef): string => `deployment:${a.cluster}/${a.namespace}/${a.name}`;

function readDeployment(world: SimWorld, a: DeploymentRef): DeploymentState {
  return readEntity<DeploymentState>(world, deploymentKey(a), () => {
    const r = rng('k8s-deployment', a.cluster, a.namespace, a.name);
    return { replicas: r.int(2, 6), revision: r.int(4, 30), images: {}, restarted_at: null };
  });
}

/** The image a revision ran: recorded if this run made the revision, otherwise generated. */
function imageAt(a: DeploymentRef, state: DeploymentState, revision: number): string {
  const recorded = state.images[String(revision)];
  if (recorded !== undefined) return recorded;
  const patch = rng('k8s-image', a.cluster, a.namespace, a.name, revision).int(0, 9);
  return `registry.example.com/${a.namespace}/${a.name}:v1.${revision}.${patch}`;
}

/** Records a new revision running `image`, the way a pod-template change creates a ReplicaSet. */
function newRevision(
  world: SimWorld,
  a: DeploymentRef,
  state: DeploymentState,
  image: string,
  patch: Partial<DeploymentState> = {},
): DeploymentState {
  const revision = state.revision + 1;
  const next = { ...state, ...patch, revision, images: { ...state.images, [String(revision)]: image } };
  world.set(deploymentKey(a), next);
  return next;
}

const ref = ({ cluster, namespace, name }: DeploymentRef) => ({ cluster, namespace, name });

const getDeployment = defineTool({
  id: 'k8s.get_deployment',
  description: 'Read a deployment: desired and ready replicas, current revision and image.',
  ...K8S_TOOLS['k8s.get_deployment'],
  risk: 'low',
  dryRun: (a) => [op('GET', deploymentTarget(a), `Read deployment ${a.namespace}/${a.name}`)],
  simulate: (a, { world }) => {
    const state = readDeployment(world, a);
    // The simulated cluster converges at once, so every replica is ready and up to date.
    const { replicas } = state;
    return {
      ...ref(a),
      replicas,
      ready_replicas: replicas,
      updated_replicas: replicas,
      available_replicas: replicas,
      revision: state.revision,
      image: imageAt(a, state, state.revision),
      restarted_at: state.restarted_at,
    };
  },
});

const restartDeployment = defineTool({
  id: 'k8s.restart_deployment',
  description: 'Rolling restart (as `kubectl rollout restart`): replaces every pod, respecting the rollout strategy.',
  ...K8S_TOOLS['k8s.restart_deployment'],
  risk: 'medium',
  dryRun: (a) => [
    op('PATCH', deploymentTarget(a), 'Set the kubectl.kubernetes.io/restartedAt pod-template annotation (rolling restart)'),
  ],
  simulate: (a, ctx) => {
    const { world } = ctx;
    const state = readDeployment(world, a);
    const key = stepMark(ctx);
    if (state.restart?.key === key && state.restart.revision === state.revision && state.restarted_at !== null) {
      return { ...ref(a), revision: state.revision, previous_revision: Math.max(1, state.revision - 1), restarted_at: state.restarted_at };
    }
    const restarted_at = simTime(rng('k8s-restart', a, state.revision).int(60_000, 3_600_000));
    const next = newRevision(world, a, state, imageAt(a, state, state.revision), { restarted_at, restart: { key, revision: state.revision + 1 } });
    return { ...ref(a), revision: next.revision, previous_revision: state.revision, restarted_at };
  },
});

const scaleDeployment = defineTool({
  id: 'k8s.scale_deployment',
  description: 'Set the number of replicas of a deployment.',
  ...K8S_TOOLS['k8s.scale_deployment'],
  risk: 'medium',
  compensation: {
    tool: 'k8s.scale_deployment',
    args: (a, result) => ({ ...ref(a), replicas: result.previous_replicas }),
  },
  dryRun: (a) => [op('PATCH', `${deploymentTarget(a)}/scale`, `Set spec.replicas=${a.replicas}`)],
  simulate: (a, { world }) => {
    const state = readDeployment(world, a);
    world.set(deploymentKey(a), { ...state, replicas: a.replicas });
    return { ...ref(a), replicas: a.replicas, previous_replicas: state.replicas };
  },
});

const rollbackDeployment = defineTool({
  id: 'k8s.rollback_deployment',
  description:
    'Roll back (as `kubectl rollout undo`) to an earlier ReplicaSet revision; by default the one before the current.',
  ...K8S_TOOLS['k8s.rollback_deployment'],
  risk: 'high',
  // Undoing a rollback is rolling back to the revision that was current before it.
  compensation: {
    tool: 'k8s.rollback_deployment',
    args: (a, result) => ({ ...ref(a), revision: result.previous_revision }),
  },
  dryRun: (a) => [
    op('GET', `${deploymentTarget(a)}/replicasets`, `Find revision ${a.revision ?? '(previous)'} of ${a.namespace}/${a.name}`),
    op('PATCH', deploymentTarget(a), 'Replace the pod template with that revision (rollout undo)'),
  ],
  simulate: (a, ctx) => {
    const { world } = ctx;
    const state = readDeployment(world, a);
    const key = stepMark(ctx);
    // Rolling back again would undo the rollback (the previous revision is now the one rolled away from).
    if (state.rollback?.key === key) return { ...ref(a), ...state.rollback.result };
    const target = a.revision ?? state.revision - 1;
    // Kubernetes refuses these too, and a runbook author should hear about it, not get a no-op.
    if (target < 1 || target >= state.revision) {
      throw new ToolError(`revision ${target} not found in the history of ${a.namespace}/${a.name} (current is ${state.revision})`);
    }
    const image = imageAt(a, state, target);
    const result: RollbackResult = {
      revision: state.revision + 1,
      rolled_back_to: target,
      previous_revision: state.revision,
      image,
      previous_image: imageAt(a, state, state.revision),
    };
    newRevision(world, a, state, image, { rollback: { key, result } });
    return { ...ref(a), ...result };
  },
});

const LOG_MESSAGES = [
  ['INFO', 'request completed method=GET path=/healthz status=200'],
  ['INFO', 'request completed method=POST path=/api/v1/orders status=201'],
  ['INFO', 'request completed method=GET path=/api/v1/orders status=200'],
  ['WARN', 'slow query duration_ms=1840 table=orders'],
  ['WARN', 'retrying upstream call attempt=2 upstream=payments'],
  ['ERROR', 'upstream call failed upstream=payments error="context deadline exceeded"'],
] as const;

const getPodLogs = defineTool({
  id: 'k8s.get_pod_logs',
  description: `Read the last lines of a pod container's log (at most ${MAX_LOG_TAIL}).`,
  ...K8S_TOOLS['k8s.get_pod_logs'],
  risk: 'low',
  dryRun: (a) => [
    op('GET', `${podTarget(a)}/log`, `Read the last ${a.tail_lines} lines of ${a.container ?? 'the default container'}`),
  ],
  simulate: (a) => {
    // A Deployment pod's name is `<deployment>-<hash>-<suffix>`; its main container is usually named after it.
    const container = a.container ?? a.pod.replace(/(-[a-z0-9]{6,10})?-[a-z0-9]{5}$/, '');
    const r = rng('k8s-logs', a.cluster, a.namespace, a.pod, container);
    const total = r.int(40, 2000);
    const count = Math.min(total, a.tail_lines);
    const lines = Array.from({ length: count }, (_, i) => {
      const [level, message] = r.next() < 0.9 ? r.pick(LOG_MESSAGES.slice(0, 3)) : r.pick(LOG_MESSAGES.slice(3));
      return `${simTime((i - count) * 1500)} ${level} ${message}`;
    });
    return { cluster: a.cluster, namespace: a.namespace, pod: a.pod, container, lines, truncated: total > count };
  },
});

export const workloadTools = [getDeployment, restartDeployment, scaleDeployment, rollbackDeployment, getPodLogs];
