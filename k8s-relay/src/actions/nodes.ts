import { PatchStrategy } from '@kubernetes/client-node';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { nodeTarget } from '../../contract/k8s-args';
import { call, callOptions } from '../kube';
import { defineAction, dryRunParam } from './context';
import type { ActionContext } from './context';

/** Node reads and cordon/uncordon; drain builds on these (drain.ts). */

export interface NodeArgs {
  cluster: string;
  node: string;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
type TaintEffect = (typeof TAINT_EFFECTS)[number];

export const nodeWhat = (node: string): string => `node "${node}"`;

export function readNode(ctx: ActionContext, node: string): Promise<V1Node> {
  return call(nodeWhat(node), () => ctx.kube.core.readNode({ name: node }, callOptions(ctx.signal)));
}

/** Every pod bound to the node, in all namespaces (what `kubectl drain` lists). */
export async function podsOnNode(ctx: ActionContext, node: string): Promise<V1Pod[]> {
  const list = await call(`pods on ${nodeWhat(node)}`, () =>
    ctx.kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }, callOptions(ctx.signal)),
  );
  return list.items;
}

export const podRef = (pod: V1Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

const isTerminated = (pod: V1Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * Sets `spec.unschedulable` the way kubectl does (a strategic merge patch; `null` removes the
 * field, which is how an uncordoned node looks). With a dry run the API server validates the
 * patch and persists nothing.
 */
export async function setUnschedulable(ctx: ActionContext, node: string, unschedulable: boolean): Promise<void> {
  await call(nodeWhat(node), () =>
    ctx.kube.core.patchNode(
      { name: node, body: { spec: { unschedulable: unschedulable ? true : null } }, dryRun: dryRunParam(ctx) },
      callOptions(ctx.signal, PatchStrategy.StrategicMergePatch),
    ),
  );
  ctx.record({
    method: 'PATCH',
    target: nodeTarget({ cluster: ctx.cluster, node }),
    description: `Set spec.unschedulable=${unschedulable} (${unschedulable ? 'cordon' : 'uncordon'})`,
  });
}

export const getNode = defineAction<NodeArgs>('k8s.get_node', async (a, ctx) => {
  const node = await readNode(ctx, a.node);
  const pods = await podsOnNode(ctx, a.node);
  const labels = node.metadata?.labels ?? {};
  const allocatable = node.status?.allocatable ?? {};
  return {
    name: a.node,
    cluster: ctx.cluster,
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    unschedulable: node.spec?.unschedulable === true,
    kubelet_version: node.status?.nodeInfo?.kubeletVersion ?? '',
    // `node-role.kubernetes.io/<role>` labels, as `kubectl get nodes` shows them.
    roles: Object.keys(labels)
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .filter(Boolean)
      .sort(),
    // Like `kubectl describe node`: pods that still hold resources on it.
    pod_count: pods.filter((p) => !isTerminated(p)).length,
    taints: (node.spec?.taints ?? [])
      .filter((t): t is typeof t & { effect: TaintEffect } => (TAINT_EFFECTS as readonly string[]).includes(t.effect))
      .map((t) => ({ key: t.key, effect: t.effect })),
    allocatable: { cpu: allocatable.cpu ?? '0', memory: allocatable.memory ?? '0', pods: allocatable.pods ?? '0' },
  };
});

/** Cordon and uncordon; a node already in the wanted state is left alone (no write). */
function schedulingAction(unschedulable: boolean) {
  return defineAction<NodeArgs>(unschedulable ? 'k8s.cordon_node' : 'k8s.uncordon_node', async (a, ctx) => {
    const node = await readNode(ctx, a.node);
    const was = node.spec?.unschedulable === true;
    if (was !== unschedulable) await setUnschedulable(ctx, a.node, unschedulable);
    return { cluster: ctx.cluster, node: a.node, unschedulable, was_unschedulable: was };
  });
}

export const cordonNode = schedulingAction(true);
export const uncordonNode = schedulingAction(false);
