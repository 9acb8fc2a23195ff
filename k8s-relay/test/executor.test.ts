import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IdempotencyStore, fingerprint } from '../src/idempotency';
import { silentLogger } from '../src/log';
import { deriveSigningKey, signRequest } from '../contract/protocol';
import { CLUSTER, TOKEN, errorOf, harness, resultOf } from './helpers';
import type { Harness } from './helpers';

let h: Harness;
afterEach(() => h?.api.close());
const node = { cluster: CLUSTER, node: 'node-1' };
const tempFile = async () => join(await mkdtemp(join(tmpdir(), 'k8s-relay-')), 'idempotency.json');

describe('refusals before anything reaches the API server', () => {
  it('a request signed with another token is unauthenticated', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    const err = errorOf(await h.send('k8s.cordon_node', node, { token: 'arc_someone_elses_token' }));
    expect(err).toMatchObject({ code: 'unauthenticated', retryable: false });
    expect(h.api.requests).toHaveLength(0);
  });

  it('a request whose signed fields were changed in transit is unauthenticated', async () => {
    h = await harness();
    const key = await deriveSigningKey(TOKEN);
    const signed = await signRequest(key, CLUSTER, { type: 'request', id: '1', idempotency_key: 'k', action: 'k8s.get_node', args: node, deadline_ms: Date.now() + 10_000 });
    const res = await h.executor.handle({ ...signed, action: 'k8s.drain_node' });
    expect(errorOf(res).code).toBe('unauthenticated');
  });

  it('a request past its deadline is refused as deadline_exceeded', async () => {
    h = await harness();
    const err = errorOf(await h.send('k8s.get_node', node, { deadlineMs: -1 }));
    expect(err).toMatchObject({ code: 'deadline_exceeded', retryable: true });
  });

  it('an action that is not a k8s tool is unknown_action', async () => {
    h = await harness();
    const err = errorOf(await h.send('k8s.delete_namespace', node));
    expect(err.code).toBe('unknown_action');
    expect(err.message).toContain('k8s.drain_node');
  });

  it('an action outside ALLOWED_ACTIONS is action_not_allowed', async () => {
    h = await harness({ actions: ['k8s.get_node', 'k8s.get_deployment'] });
    const err = errorOf(await h.send('k8s.drain_node', node));
    expect(err).toMatchObject({ code: 'action_not_allowed', message: 'k8s.drain_node is not allowed by this relay (ALLOWED_ACTIONS: k8s.get_node, k8s.get_deployment)' });
    expect(h.api.requests).toHaveLength(0);
  });

  it('a namespace outside ALLOWED_NAMESPACES is namespace_not_allowed', async () => {
    h = await harness({ namespaces: ['payments'] });
    const err = errorOf(await h.send('k8s.scale_deployment', { cluster: CLUSTER, namespace: 'kube-system', name: 'coredns', replicas: 0 }));
    expect(err.code).toBe('namespace_not_allowed');
    expect(err.message).toContain('deployment kube-system/coredns');
    expect(h.api.requests).toHaveLength(0);
  });

  it("arguments the tool's schema refuses are invalid_args, with each field and reason", async () => {
    h = await harness();
    const err = errorOf(await h.send('k8s.scale_deployment', { cluster: CLUSTER, namespace: 'Payments', name: 'api', replicas: -1, force: true }));
    expect(err.code).toBe('invalid_args');
    const paths = (err.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['namespace', 'replicas', '']));
    expect(err.message).toContain('namespace: must be a valid namespace name');
    expect(h.api.requests).toHaveLength(0);
  });

  it('a request for another cluster is cluster_mismatch', async () => {
    h = await harness();
    const err = errorOf(await h.send('k8s.get_node', { cluster: 'staging', node: 'node-1' }));
    expect(err).toMatchObject({ code: 'cluster_mismatch', message: `this relay serves cluster "${CLUSTER}", not "staging"` });
  });

  it('a frame that is not a request is answered invalid_request when it names an id', async () => {
    h = await harness();
    const raw = { type: 'request', id: 'r1', idempotency_key: 'k1', action: 'k8s.get_node' };
    const { hubMessage } = await import('../contract/protocol');
    const parsed = hubMessage.safeParse(raw);
    expect(parsed.success).toBe(false);
    const answer = h.executor.invalid(raw, parsed.error as z.ZodError);
    expect(answer).toMatchObject({ id: 'r1', ok: false, error: { code: 'invalid_request' } });
    expect(h.executor.invalid({ type: 'request' }, parsed.error as z.ZodError)).toBeNull();
  });
});

describe('idempotency', () => {
  it('a re-delivered mutating request returns the remembered result without calling the API server again', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    const first = await h.send('k8s.cordon_node', node, { key: 'run_1:cordon:1' });
    const again = await h.send('k8s.cordon_node', node, { key: 'run_1:cordon:1' });
    expect(first).toMatchObject({ ok: true, replayed: false });
    expect(again).toMatchObject({ ok: true, replayed: true, result: resultOf(first) });
    expect(h.api.count('PATCH', /./)).toBe(1);
    expect(h.api.count('GET', /\/nodes\//)).toBe(1);
  });

  it('two deliveries at once share one execution', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    h.api.fault({ method: 'PATCH', path: /nodes/, delayMs: 150 });
    const [a, b] = await Promise.all([
      h.send('k8s.cordon_node', node, { key: 'run_1:cordon:1' }),
      h.send('k8s.cordon_node', node, { key: 'run_1:cordon:1' }),
    ]);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(h.api.count('PATCH', /./)).toBe(1);
  });

  it('the same key with other arguments is idempotency_conflict', async () => {
    h = await harness();
    h.api.cluster.addDeployment('payments', 'api');
    const args = { cluster: CLUSTER, namespace: 'payments', name: 'api' };
    resultOf(await h.send('k8s.scale_deployment', { ...args, replicas: 5 }, { key: 'k' }));
    const err = errorOf(await h.send('k8s.scale_deployment', { ...args, replicas: 1 }, { key: 'k' }));
    expect(err.code).toBe('idempotency_conflict');
    expect(h.api.cluster.deployments.get('payments/api')!.spec.replicas).toBe(5);
  });

  it('remembers results across a relay restart through the idempotency file', async () => {
    const file = await tempFile();
    h = await harness({ file });
    h.api.cluster.addNode('node-1');
    const first = await h.send('k8s.drain_node', node, { key: 'run_1:drain:1' });
    expect(first.ok).toBe(true);
    await h.restart();
    h.api.requests.length = 0;
    const again = await h.send('k8s.drain_node', node, { key: 'run_1:drain:1' });
    expect(again).toMatchObject({ ok: true, replayed: true, result: resultOf(first) });
    expect(h.api.requests).toHaveLength(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, entries: [{ key: 'run_1:drain:1' }] });
  });

  it('a drain resumed after a crash does not evict twice and reports every eviction', async () => {
    const file = await tempFile();
    h = await harness({ file });
    const c = h.api.cluster;
    c.addNode('node-1');
    c.addNode('node-2');
    const a = c.addPod({ namespace: 'payments', name: 'api-1', node: 'node-1', owner: { kind: 'ReplicaSet', name: 'api-1f' } });
    c.addPod({ namespace: 'payments', name: 'api-2', node: 'node-1', owner: { kind: 'ReplicaSet', name: 'api-1f' } });
    c.nodes.get('node-1')!.spec.unschedulable = true;
    c.pods.delete('payments/api-1');
    // What the crashed relay left: the key begun, one eviction journaled.
    const crashed = await IdempotencyStore.open({ file, ttlMs: 3_600_000, maxEntries: 10, log: silentLogger });
    crashed.begin('run_1:drain:1', fingerprint('k8s.drain_node', node, false));
    await crashed.progress('run_1:drain:1').set({ pods: [{ ref: 'payments/api-1', uid: a.metadata.uid, done: true }] });
    await h.restart();

    const res = await h.send('k8s.drain_node', node, { key: 'run_1:drain:1' });
    expect(resultOf(res)).toMatchObject({ evicted: 2, evicted_pods: ['payments/api-1', 'payments/api-2'] });
    expect(h.api.count('POST', /api-1\/eviction$/)).toBe(0);
    expect(h.api.count('POST', /api-2\/eviction$/)).toBe(1);
  });

  it('an eviction requested just before a crash counts as done once its pod has gone', async () => {
    const file = await tempFile();
    h = await harness({ file });
    const c = h.api.cluster;
    c.addNode('node-1', { unschedulable: true });
    const a = c.addPod({ namespace: 'payments', name: 'api-1', node: 'node-1', owner: { kind: 'ReplicaSet', name: 'api-1f' } });
    const b = c.addPod({ namespace: 'payments', name: 'api-2', node: 'node-1', owner: { kind: 'ReplicaSet', name: 'api-1f' } });
    // api-1's eviction reached the API server but the relay died before recording the answer;
    // api-2's was recorded as requested but never reached it.
    c.pods.delete('payments/api-1');
    const crashed = await IdempotencyStore.open({ file, ttlMs: 3_600_000, maxEntries: 10, log: silentLogger });
    crashed.begin('run_1:drain:1', fingerprint('k8s.drain_node', node, false));
    await crashed.progress('run_1:drain:1').set({
      pods: [
        { ref: 'payments/api-1', uid: a.metadata.uid, done: false },
        { ref: 'payments/api-2', uid: b.metadata.uid, done: false },
      ],
    });
    await h.restart();

    const res = await h.send('k8s.drain_node', node, { key: 'run_1:drain:1' });
    expect(resultOf(res)).toMatchObject({ evicted_pods: ['payments/api-1', 'payments/api-2'] });
    expect(h.api.count('POST', /eviction$/)).toBe(1);
    expect(c.podsOn('node-1')).toEqual([]);
  });

  it('a retryable failure is not remembered: the re-delivery acts', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    h.api.fault({ method: 'PATCH', path: /nodes/, status: 503 });
    const err = errorOf(await h.send('k8s.cordon_node', node, { key: 'k' }));
    expect(err).toMatchObject({ code: 'api_unavailable', retryable: true });
    expect(resultOf(await h.send('k8s.cordon_node', node, { key: 'k' }))).toMatchObject({ unschedulable: true });
  });

  it('a final failure is remembered: the re-delivery gets the same answer', async () => {
    h = await harness();
    const first = errorOf(await h.send('k8s.cordon_node', node, { key: 'k' }));
    expect(first.code).toBe('not_found');
    h.api.cluster.addNode('node-1');
    const again = await h.send('k8s.cordon_node', node, { key: 'k' });
    expect(again).toMatchObject({ ok: false, replayed: true, error: { code: 'not_found' } });
  });

  it('reads and dry runs are not remembered: a re-delivery reads again', async () => {
    h = await harness();
    h.api.cluster.addNode('node-1');
    await h.send('k8s.get_node', node, { key: 'k' });
    h.api.cluster.nodes.get('node-1')!.spec.unschedulable = true;
    const again = await h.send('k8s.get_node', node, { key: 'k' });
    expect(again).toMatchObject({ replayed: false, result: { unschedulable: true } });
    expect(h.store.size).toBe(0);
  });
});

describe('the idempotency store', () => {
  it('expires entries after the TTL and evicts the least recently used beyond its bound', async () => {
    let now = 1_000;
    const store = await IdempotencyStore.open({ file: null, ttlMs: 100, maxEntries: 2, log: silentLogger, now: () => now });
    const done = { ok: true as const, result: {}, operations: [], dry_run: false };
    for (const key of ['a', 'b']) {
      store.begin(key, 'fp');
      await store.finish(key, done);
    }
    store.lookup('a'); // a is now the most recently used
    store.begin('c', 'fp');
    await store.finish('c', done);
    expect(store.lookup('b')).toBeUndefined();
    expect(store.lookup('a')?.outcome).toEqual(done);
    now += 101;
    expect(store.lookup('a')).toBeUndefined();
  });

  it('starts empty from a corrupt file instead of refusing to start', async () => {
    const file = await tempFile();
    await writeFile(file, '{"version":1,"entr');
    const store = await IdempotencyStore.open({ file, ttlMs: 100, maxEntries: 2, log: silentLogger });
    expect(store.size).toBe(0);
  });
});
