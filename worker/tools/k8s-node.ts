import type { z } from 'zod';
import { defineTool, op } from './define';
import { nodeTarget, type nodeArgs } from '../../k8s-relay/contract/k8s-args';
import { K8S_TOOLS } from '../../k8s-relay/contract/k8s-tools';
import { readEntity, rng } from './sim';
import { ToolError } from './types';
import type { SimWorld } from './types';

/**
 * Node tools. Risk: reading is low; cordoning only stops new pods landing (medium); draining
 * evicts running workloads (high). Cordon and uncordon undo each other; a drain is undone by an
 * uncordon, after which the evicted pods' controllers may schedule onto the node again.
 */

/** What earlier calls in this run did to a node, kept at `node:<cluster>/<node>`. */
interface NodeState {
  unschedulable: boolean;
  drained: boolean;
}

type NodeRef = z.infer<typeof nodeArgs>;

const nodeKey = (a: NodeRef): string => `node:${a.cluster}/${a.node}`;

function readNode(world: SimWorld, a: NodeRef): NodeState {
  return readEntity<NodeState>(world, nodeKey(a), () => ({ unschedulable: false, drained: false }));
}

/** The simulated failure: a node whose name ends in `-unreachable` never answers. */
function assertReachable(a: NodeRef): void {
  if (a.node.endsWith('-unreachable')) {
    throw new ToolError(`node not reachable: ${a.node} in ${a.cluster}`, true, 'node_unreachable');
  }
}

export type PodKind = 'replicaset' | 'statefulset' | 'daemonset' | 'mirror';
export interface SimPod {
  /** `namespace/name`, as kubectl prints it. */
  ref: string;
  kind: PodKind;
}

/** Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const K8S_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';
const APPS = [
  ['payments', 'payments-api'],
  ['checkout', 'checkout-web'],
  ['orders', 'orders-worker'],
  ['search', 'search-indexer'],
  ['auth', 'auth-service'],
  ['notifications', 'mailer'],
] as const;

/**
 * The pods a node runs before anyone drains it: a few Deployment and StatefulSet pods, always
 * one DaemonSet pod and sometimes a static (mirror) pod — the two kinds a drain must skip.
 */
export function podsOnNode(a: NodeRef): SimPod[] {
  const r = rng('k8s-node-pods', a.cluster, a.node);
  const pods: SimPod[] = [];
  for (let i = r.int(3, 7); i > 0; i--) {
    const [namespace, app] = r.pick(APPS);
    const stateful = r.chance(0.2);
    const name = stateful ? `${app}-${i}` : `${app}-${r.chars(10, K8S_SUFFIX)}-${r.chars(5, K8S_SUFFIX)}`;
    pods.push({ ref: `${namespace}/${name}`, kind: stateful ? 'statefulset' : 'replicaset' });
  }
  pods.push({ ref: `kube-system/kube-proxy-${r.chars(5, K8S_SUFFIX)}`, kind: 'daemonset' });
  if (r.chance(0.5)) pods.push({ ref: `kube-system/nginx-proxy-${a.node}`, kind: 'mirror' });
  return pods;
}

const isEvictable = (pod: SimPod): boolean => pod.kind !== 'daemonset' && pod.kind !== 'mirror';

const getNode = defineTool({
  id: 'k8s.get_node',
  description: 'Read a node: readiness, whether it is cordoned, its taints and how many pods it runs.',
  ...K8S_TOOLS['k8s.get_node'],
  risk: 'low',
  dryRun: (a) => [op('GET', nodeTarget(a), `Read node ${a.node}`)],
  simulate: (a, { world }) => {
    assertReachable(a);
    const state = readNode(world, a);
    const r = rng('k8s-node', a.cluster, a.node);
    const pods = podsOnNode(a).filter((pod) => !state.drained || !isEvictable(pod));
    return {
      name: a.node,
      cluster: a.cluster,
      ready: true,
      unschedulable: state.unschedulable,
      kubelet_version: `v1.${r.int(29, 31)}.${r.int(1, 9)}`,
      roles: ['worker'],
      pod_count: pods.length,
      // The API server adds this taint to every cordoned node.
      taints: state.unschedulable ? [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' as const }] : [],
      allocatable: { cpu: `${r.pick([4, 8, 16])}`, memory: `${r.pick([16, 32, 64])}Gi`, pods: '110' },
    };
  },
});

/** Cordon and uncordon are the same PATCH of `spec.unschedulable`, each the other's inverse. */
function schedulingTool(unschedulable: boolean) {
  const [verb, inverse] = unschedulable ? ['cordon', 'uncordon'] : ['uncordon', 'cordon'];
  return defineTool({
    id: `k8s.${verb}_node`,
    description: unschedulable
      ? 'Mark a node unschedulable so no new pods land on it; running pods stay.'
      : 'Mark a node schedulable again.',
    ...K8S_TOOLS[unschedulable ? 'k8s.cordon_node' : 'k8s.uncordon_node'],
    risk: unschedulable ? 'medium' : 'low',
    // A node that was already in the wanted state is left alone on compensation.
    compensation: { tool: `k8s.${inverse}_node`, args: ({ cluster, node }, r) => (r.was_unschedulable === unschedulable ? null : { cluster, node }) },
    dryRun: (a) => [op('PATCH', nodeTarget(a), `Set spec.unschedulable=${unschedulable} (${verb})`)],
    simulate: (a, { world }) => {
      assertReachable(a);
      const state = readNode(world, a);
      world.set(nodeKey(a), { ...state, unschedulable });
      return { cluster: a.cluster, node: a.node, unschedulable, was_unschedulable: state.unschedulable };
    },
  });
}

const drainNode = defineTool({
  id: 'k8s.drain_node',
  description:
    'Cordon a node and evict its pods through the Eviction API ' +
    '(honours PodDisruptionBudgets; skips DaemonSet and mirror pods).',
  ...K8S_TOOLS['k8s.drain_node'],
  risk: 'high',
  compensation: { tool: 'k8s.uncordon_node', args: ({ cluster, node }) => ({ cluster, node }) },
  dryRun: (a) => [
    op('PATCH', nodeTarget(a), 'Set spec.unschedulable=true (cordon)'),
    op(
      'EVICT',
      `${nodeTarget(a)}/pods`,
      [
        `Evict every pod on ${a.node}, honouring PodDisruptionBudgets; DaemonSet and mirror pods are skipped`,
        a.grace_period_seconds === undefined ? '' : `; grace period ${a.grace_period_seconds}s`,
        a.timeout === undefined ? '' : `; give up after ${a.timeout}`,
      ].join(''),
    ),
  ],
  simulate: (a, { world }) => {
    assertReachable(a);
    const state = readNode(world, a);
    const pods = podsOnNode(a);
    // A second drain finds only the pods it may not evict.
    const evicted = state.drained ? [] : pods.filter(isEvictable).map((pod) => pod.ref);
    world.set(nodeKey(a), { unschedulable: true, drained: true } satisfies NodeState);
    return {
      cluster: a.cluster,
      node: a.node,
      cordoned: true as const,
      evicted: evicted.length,
      evicted_pods: evicted,
      skipped: pods.flatMap((pod) =>
        pod.kind === 'daemonset' || pod.kind === 'mirror' ? [{ pod: pod.ref, reason: pod.kind }] : [],
      ),
    };
  },
});

export const nodeTools = [getNode, schedulingTool(true), schedulingTool(false), drainNode];
