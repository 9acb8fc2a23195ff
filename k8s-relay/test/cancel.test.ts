import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER, errorOf, eventually, harness, resultOf } from './helpers';
import type { Harness } from './helpers';

let h: Harness;
afterEach(() => h?.api.close());
const node = { cluster: CLUSTER, node: 'node-1' };

describe('cancel', () => {
  it('aborts an action blocked on a slow API call and answers it cancelled, at once', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    h.api.fault({ method: 'PATCH', path: /nodes\/node-1$/, delayMs: 5_000 });
    const started = Date.now();
    const answer = h.send('k8s.cordon_node', node, { id: 'rq_1', key: 'run_1:cordon:1', deadlineMs: 30_000 });
    await eventually(() => h.api.arrivals.some((r) => r.method === 'PATCH'));

    await h.cancel('rq_1', 'run_1:cordon:1');
    const res = await answer;
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(errorOf(res)).toMatchObject({ code: 'cancelled', retryable: false, message: expect.stringContaining('the hub cancelled the request') });
    expect(res).toMatchObject({ id: 'rq_1', idempotency_key: 'run_1:cordon:1', replayed: false });
    expect(h.executor.inFlight).toBe(0);
  });

  it('stops a drain between evictions and reports the writes done before it', async () => {
    h = await harness();
    const c = h.api.cluster;
    c.addNode('node-1');
    for (const name of ['api-1', 'api-2', 'api-3']) c.addPod({ namespace: 'payments', name, node: 'node-1', owner: { kind: 'ReplicaSet', name: 'api-1f' } });
    h.api.fault({ method: 'POST', path: /api-2\/eviction$/, delayMs: 5_000 });
    const answer = h.send('k8s.drain_node', node, { id: 'rq_2', key: 'run_2:drain:1', deadlineMs: 30_000 });
    await eventually(() => h.api.arrivals.some((r) => r.path.endsWith('api-2/eviction')));

    await h.cancel('rq_2', 'run_2:drain:1');
    const err = errorOf(await answer);
    expect(err).toMatchObject({ code: 'cancelled', retryable: false, message: expect.stringContaining('2 write(s) were done before it stopped') });
    expect(err.details).toEqual({
      operations: [
        expect.objectContaining({ method: 'PATCH', description: expect.stringContaining('cordon') }),
        expect.objectContaining({ method: 'EVICT', target: expect.stringContaining('api-1') }),
      ],
    });
    expect(h.api.arrivals.filter((r) => r.path.endsWith('api-3/eviction'))).toHaveLength(0);
    expect(c.nodes.get('node-1')!.spec.unschedulable).toBe(true);
  });

  it('a cancel for an unknown or finished request, or another delivery, changes nothing', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    resultOf(await h.send('k8s.cordon_node', node, { id: 'rq_done', key: 'run_3:cordon:1' }));
    await h.cancel('rq_done', 'run_3:cordon:1');
    await h.cancel('rq_unknown', 'run_3:nothing:1');

    h.api.fault({ method: 'PATCH', path: /nodes\/node-1$/, delayMs: 300 });
    const running = h.send('k8s.uncordon_node', node, { id: 'rq_4', key: 'run_4:uncordon:1' });
    await eventually(() => h.api.arrivals.filter((r) => r.method === 'PATCH').length === 2);
    await h.cancel('rq_other', 'run_4:uncordon:1'); // the right key, but not a delivery of this execution
    expect(resultOf(await running)).toMatchObject({ unschedulable: false, was_unschedulable: true });
    // The finished request still replays its result: the cancel did not touch the idempotency cache.
    expect(await h.send('k8s.cordon_node', node, { key: 'run_3:cordon:1' })).toMatchObject({ ok: true, replayed: true });
  });

  it("a cancel not signed with the cluster's token is ignored", async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    h.api.fault({ method: 'PATCH', path: /nodes\/node-1$/, delayMs: 300 });
    const running = h.send('k8s.cordon_node', node, { id: 'rq_5', key: 'run_5:cordon:1' });
    await eventually(() => h.api.arrivals.some((r) => r.method === 'PATCH'));
    await h.cancel('rq_5', 'run_5:cordon:1', { token: 'arc_someone_elses_token' });
    expect(resultOf(await running)).toMatchObject({ unschedulable: true });
  });

  it('a cancel that overtakes its request keeps the request from acting', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    await h.cancel('rq_6', 'run_6:cordon:1');
    const err = errorOf(await h.send('k8s.cordon_node', node, { id: 'rq_6', key: 'run_6:cordon:1' }));
    expect(err).toMatchObject({ code: 'cancelled', retryable: false, message: expect.stringContaining('nothing was done') });
    expect(h.api.requests).toHaveLength(0);
  });
});
