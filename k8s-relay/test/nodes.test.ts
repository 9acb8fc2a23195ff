import { afterEach, describe, expect, it } from 'vitest';
import { K8S_TOOLS } from '../contract/k8s-tools';
import { CLUSTER, errorOf, harness, resultOf } from './helpers';
import type { Harness } from './helpers';

const tool = (id: keyof typeof K8S_TOOLS) => K8S_TOOLS[id];
let h: Harness;
afterEach(() => h?.api.close());

describe('k8s.get_node', () => {
  it('reads readiness, cordon state, roles, taints and the pods still running', async () => {
    h = await harness();
    const c = h.api.cluster;
    c.addNode('node-1', { roles: ['worker', 'gpu'], taints: [{ key: 'gpu', effect: 'NoSchedule' }] });
    c.addPod({ namespace: 'payments', name: 'api-1', node: 'node-1', owner: { kind: 'ReplicaSet', name: 'api-abc' } });
    c.addPod({ namespace: 'batch', name: 'job-1', node: 'node-1', owner: { kind: 'Job', name: 'job' }, phase: 'Succeeded' });
    c.addPod({ namespace: 'payments', name: 'elsewhere', node: 'node-2' });

    const res = await h.send('k8s.get_node', { cluster: CLUSTER, node: 'node-1' });
    const result = resultOf(res);
    expect(tool('k8s.get_node').result.safeParse(result).success).toBe(true);
    expect(result).toEqual({
      name: 'node-1',
      cluster: CLUSTER,
      ready: true,
      unschedulable: false,
      kubelet_version: 'v1.31.2',
      roles: ['gpu', 'worker'],
      pod_count: 1,
      taints: [{ key: 'gpu', effect: 'NoSchedule' }],
      allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
    });
    expect(res.ok && res.operations).toEqual([]);
    expect(h.api.requests.find((r) => r.path === '/api/v1/pods')?.query.fieldSelector).toBe('spec.nodeName=node-1');
  });

  it('answers not_found for a node the cluster does not have', async () => {
    h = await harness();
    const err = errorOf(await h.send('k8s.get_node', { cluster: CLUSTER, node: 'ghost' }));
    expect(err).toMatchObject({ code: 'not_found', retryable: false, message: 'node "ghost" not found' });
  });
});

describe('k8s.cordon_node and k8s.uncordon_node', () => {
  it('cordon sets spec.unschedulable with a strategic merge patch, uncordon removes it', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');

    const cordon = await h.send('k8s.cordon_node', { cluster: CLUSTER, node: 'node-1' });
    expect(resultOf(cordon)).toEqual({ cluster: CLUSTER, node: 'node-1', unschedulable: true, was_unschedulable: false });
    expect(h.api.cluster.nodes.get('node-1')!.spec.unschedulable).toBe(true);
    const patch = h.api.requests.find((r) => r.method === 'PATCH')!;
    expect(patch).toMatchObject({ path: '/api/v1/nodes/node-1', contentType: 'application/strategic-merge-patch+json', body: { spec: { unschedulable: true } } });
    expect(cordon.ok && cordon.operations).toEqual([
      { method: 'PATCH', target: `k8s:${CLUSTER}/nodes/node-1`, description: 'Set spec.unschedulable=true (cordon)' },
    ]);

    const uncordon = await h.send('k8s.uncordon_node', { cluster: CLUSTER, node: 'node-1' });
    expect(resultOf(uncordon)).toEqual({ cluster: CLUSTER, node: 'node-1', unschedulable: false, was_unschedulable: true });
    expect(h.api.cluster.nodes.get('node-1')!.spec).not.toHaveProperty('unschedulable');
  });

  it('leaves a node already in the wanted state alone', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1', { unschedulable: true });
    const res = await h.send('k8s.cordon_node', { cluster: CLUSTER, node: 'node-1' });
    expect(resultOf(res)).toMatchObject({ unschedulable: true, was_unschedulable: true });
    expect(h.api.count('PATCH', /./)).toBe(0);
  });

  it('a dry run asks the API server to validate the patch and changes nothing', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    const res = await h.send('k8s.cordon_node', { cluster: CLUSTER, node: 'node-1' }, { dryRun: true });
    expect(res).toMatchObject({ ok: true, dry_run: true, result: { unschedulable: true, was_unschedulable: false } });
    expect(h.api.requests.find((r) => r.method === 'PATCH')?.query.dryRun).toBe('All');
    expect(h.api.cluster.nodes.get('node-1')!.spec.unschedulable).toBeUndefined();
  });
});

describe('k8s.drain_node', () => {
  function nodeWithWorkloads(hh: Harness) {
    const c = hh.api.cluster;
    c.addNode('node-1');
    c.addNode('node-2');
    for (const i of [1, 2, 3]) {
      c.addPod({ namespace: 'payments', name: `api-7d9f8-${i}aaaa`, node: i < 3 ? 'node-1' : 'node-2', labels: { app: 'api' }, owner: { kind: 'ReplicaSet', name: 'api-7d9f8' } });
    }
    c.addPod({ namespace: 'orders', name: 'db-0', node: 'node-1', labels: { app: 'db' }, owner: { kind: 'StatefulSet', name: 'db' } });
    c.addPod({ namespace: 'kube-system', name: 'kube-proxy-x1', node: 'node-1', owner: { kind: 'DaemonSet', name: 'kube-proxy' } });
    c.addPod({ namespace: 'kube-system', name: 'etcd-node-1', node: 'node-1', annotations: { 'kubernetes.io/config.mirror': 'abc' } });
  }

  it('cordons, evicts through the Eviction API, skips DaemonSet and mirror pods, and waits until they are gone', async () => {
    h = await harness();
    nodeWithWorkloads(h);
    h.api.cluster.terminationMs = 60;

    const res = await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1', grace_period_seconds: 30 });
    const result = resultOf<{ evicted_pods: string[] }>(res);
    expect(tool('k8s.drain_node').result.safeParse(result).success).toBe(true);
    expect(result).toEqual({
      cluster: CLUSTER,
      node: 'node-1',
      cordoned: true,
      evicted: 3,
      evicted_pods: ['payments/api-7d9f8-1aaaa', 'payments/api-7d9f8-2aaaa', 'orders/db-0'],
      skipped: [
        { pod: 'kube-system/kube-proxy-x1', reason: 'daemonset' },
        { pod: 'kube-system/etcd-node-1', reason: 'mirror' },
      ],
    });
    const c = h.api.cluster;
    expect(c.nodes.get('node-1')!.spec.unschedulable).toBe(true);
    expect(c.podsOn('node-1').map((p) => p.metadata.name).sort()).toEqual(['etcd-node-1', 'kube-proxy-x1']);
    const eviction = h.api.requests.find((r) => r.method === 'POST')!;
    expect(eviction).toMatchObject({
      path: '/api/v1/namespaces/payments/pods/api-7d9f8-1aaaa/eviction',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'api-7d9f8-1aaaa', namespace: 'payments' }, deleteOptions: { gracePeriodSeconds: 30 } },
    });
    // The drain returned only once the terminating pods had left the node.
    expect(h.api.requests.filter((r) => r.path === '/api/v1/pods').length).toBeGreaterThan(2);
  });

  it('retries while a PodDisruptionBudget refuses, and succeeds once a replacement is ready', async () => {
    h = await harness();
    nodeWithWorkloads(h);
    // 3 api pods, at least 2 available: one eviction at a time, each after its replacement is Ready.
    h.api.cluster.addPdb('payments', 'api-pdb', { app: 'api' }, { minAvailable: 2 });
    h.api.cluster.replacementReadyAfterMs = 80;

    const res = await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1' });
    expect(resultOf(res)).toMatchObject({ evicted: 3 });
    const refused = h.api.requests.filter((r) => r.method === 'POST' && r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(h.api.count('POST', /api-7d9f8-2aaaa\/eviction$/)).toBeGreaterThan(1);
    expect(h.api.cluster.podsOn('node-1').filter((p) => p.metadata.namespace === 'payments')).toEqual([]);
  });

  it('gives up at the timeout with pdb_blocked, naming the budget; the node stays cordoned', async () => {
    h = await harness();
    nodeWithWorkloads(h);
    h.api.cluster.addPdb('payments', 'api-pdb', { app: 'api' }, { minAvailable: 3 });

    const err = errorOf(await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1', timeout: '1s' }));
    expect(err.code).toBe('pdb_blocked');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('The disruption budget api-pdb needs 3 healthy pods and has 3 currently');
    expect(err.details).toMatchObject({ evicted_pods: ['orders/db-0'] });
    expect(h.api.cluster.nodes.get('node-1')!.spec.unschedulable).toBe(true);
  });

  it('refuses, before cordoning, a node running pods no controller manages', async () => {
    h = await harness();
    nodeWithWorkloads(h);
    h.api.cluster.addPod({ namespace: 'payments', name: 'debug-shell', node: 'node-1' });
    const err = errorOf(await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1' }));
    expect(err).toMatchObject({ code: 'precondition_failed', retryable: false });
    expect(err.message).toContain('payments/debug-shell');
    expect(h.api.count('PATCH', /./) + h.api.count('POST', /./)).toBe(0);
  });

  it('refuses to evict pods outside ALLOWED_NAMESPACES', async () => {
    h = await harness({ namespaces: ['payments'] });
    nodeWithWorkloads(h);
    const err = errorOf(await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1' }));
    expect(err.code).toBe('namespace_not_allowed');
    expect(err.message).toContain('orders/db-0');
    expect(h.api.count('PATCH', /./)).toBe(0);
  });

  it("never evicts the relay's own pod", async () => {
    h = await harness({ self: { namespace: 'agentrunbook', name: 'k8s-relay-abc' } });
    h.api.cluster.addNode('node-1');
    h.api.cluster.addPod({ namespace: 'agentrunbook', name: 'k8s-relay-abc', node: 'node-1', owner: { kind: 'ReplicaSet', name: 'k8s-relay-5f' } });
    const res = await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1' });
    expect(resultOf(res)).toMatchObject({ evicted: 0 });
    expect(res.ok && res.operations.map((o) => o.method)).toEqual(['PATCH', 'SKIP']);
    expect(h.api.cluster.pods.has('agentrunbook/k8s-relay-abc')).toBe(true);
  });

  it('a dry run lists the evictions, validated by the API server, and evicts nothing', async () => {
    h = await harness();
    nodeWithWorkloads(h);
    const res = await h.send('k8s.drain_node', { cluster: CLUSTER, node: 'node-1' }, { dryRun: true });
    expect(resultOf(res)).toMatchObject({ evicted: 3 });
    expect(res.ok && res.operations.map((o) => o.method)).toEqual(['PATCH', 'EVICT', 'EVICT', 'EVICT']);
    expect(h.api.requests.filter((r) => r.method !== 'GET').every((r) => r.query.dryRun === 'All')).toBe(true);
    expect(h.api.cluster.podsOn('node-1')).toHaveLength(5);
    expect(h.api.cluster.nodes.get('node-1')!.spec.unschedulable).toBeUndefined();
  });
});
