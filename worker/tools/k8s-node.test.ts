import { describe, expect, it } from 'vitest';
import { getTool } from './catalog';
import { podsOnNode } from './k8s-node';
import { memoryWorld } from './sim';
import { ToolError } from './types';
import { callSimulated, simContext } from './test-helpers';

const node = { cluster: 'prod-eu', node: 'ip-10-0-3-17' };

describe('k8s node tools (simulated)', () => {
  it('a cordoned node reads as unschedulable, with the unschedulable taint', async () => {
    const ctx = simContext();
    expect(await callSimulated('k8s.get_node', node, ctx)).toMatchObject({ name: node.node, ready: true, unschedulable: false, taints: [] });
    expect(await callSimulated('k8s.cordon_node', node, ctx)).toMatchObject({ unschedulable: true, was_unschedulable: false });
    expect(await callSimulated('k8s.get_node', node, ctx)).toMatchObject({
      unschedulable: true,
      taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    });
  });

  it('keeps nodes of other clusters apart', async () => {
    const ctx = simContext();
    await callSimulated('k8s.cordon_node', node, ctx);
    expect(await callSimulated('k8s.get_node', { ...node, cluster: 'prod-us' }, ctx)).toMatchObject({ unschedulable: false });
  });

  it('uncordon, the compensation of cordon, makes the node schedulable again', async () => {
    const ctx = simContext();
    const cordon = getTool('k8s.cordon_node')!;
    const result = await callSimulated('k8s.cordon_node', node, ctx);
    const inverse = cordon.compensation!;
    expect(inverse.tool).toBe('k8s.uncordon_node');
    expect(await callSimulated(inverse.tool, inverse.args(node, result)!, ctx)).toMatchObject({ unschedulable: false, was_unschedulable: true });
    expect(await callSimulated('k8s.get_node', node, ctx)).toMatchObject({ unschedulable: false });
  });

  it('cordoning a node that was already cordoned leaves nothing to undo', async () => {
    const ctx = simContext();
    await callSimulated('k8s.cordon_node', node, ctx);
    const again = await callSimulated('k8s.cordon_node', node, ctx);
    expect(getTool('k8s.cordon_node')!.compensation!.args(node, again)).toBeNull();
  });

  it('drain cordons the node, evicts its workload pods and skips DaemonSet and mirror pods', async () => {
    const ctx = simContext();
    const drain = await callSimulated('k8s.drain_node', node, ctx);
    const pods = podsOnNode(node);
    const workload = pods.filter((p) => p.kind === 'replicaset' || p.kind === 'statefulset').map((p) => p.ref);
    expect(drain).toMatchObject({ cordoned: true, evicted: workload.length, evicted_pods: workload });
    expect(workload.length).toBeGreaterThan(0);
    expect(drain.skipped).toContainEqual({ pod: expect.stringMatching(/^kube-system\/kube-proxy-/), reason: 'daemonset' });
    expect(await callSimulated('k8s.get_node', node, ctx)).toMatchObject({
      unschedulable: true,
      pod_count: pods.length - workload.length,
    });
  });

  it('some nodes run a mirror pod, which drain skips', async () => {
    const withMirror = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5']
      .map((name) => ({ cluster: 'prod-eu', node: name }))
      .find((n) => podsOnNode(n).some((p) => p.kind === 'mirror'))!;
    const drain = await callSimulated('k8s.drain_node', withMirror);
    expect(drain.skipped).toContainEqual({ pod: `kube-system/nginx-proxy-${withMirror.node}`, reason: 'mirror' });
  });

  it('a second drain finds nothing left to evict', async () => {
    const ctx = simContext();
    await callSimulated('k8s.drain_node', node, ctx);
    expect(await callSimulated('k8s.drain_node', node, ctx)).toMatchObject({ evicted: 0, evicted_pods: [] });
  });

  it('a node named *-unreachable fails with a retryable error and changes nothing', async () => {
    const world = memoryWorld();
    const call = callSimulated('k8s.drain_node', { cluster: 'prod-eu', node: 'node-7-unreachable' }, simContext(world));
    await expect(call).rejects.toBeInstanceOf(ToolError);
    await expect(call).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('not reachable') });
    expect(world.snapshot()).toEqual({});
  });

  it('dry-runs a drain as a cordon then evictions, without touching a world', () => {
    const drain = getTool('k8s.drain_node')!;
    const ops = drain.dryRun(drain.args.parse({ ...node, grace_period_seconds: 30 }));
    expect(ops.map((o) => o.method)).toEqual(['PATCH', 'EVICT']);
    expect(ops[0]!.target).toBe('k8s:prod-eu/nodes/ip-10-0-3-17');
    expect(ops[1]!.description).toContain('PodDisruptionBudgets');
  });
});
