import { afterEach, describe, expect, it } from 'vitest';
import { K8S_ACTIONS, PING, PROTOCOL_HEADER } from '../contract/protocol';
import type { RelayConfig } from '../src/config';
import { backoffDelay } from '../src/connection';
import { makeKube } from '../src/kube';
import { silentLogger } from '../src/log';
import { startRelay } from '../src/relay';
import type { Relay } from '../src/relay';
import { FakeApiServer } from './fake-apiserver';
import { FakeHub } from './fake-hub';
import { CLUSTER, TOKEN, eventually } from './helpers';

let api: FakeApiServer;
let hub: FakeHub;
let relay: Relay | undefined;

afterEach(async () => {
  await relay?.stop(100);
  relay = undefined;
  await hub?.close();
  await api?.close();
});

async function start(overrides: Partial<RelayConfig> = {}): Promise<Relay> {
  api = await FakeApiServer.start();
  api.cluster.addNode('node-1');
  hub ??= await FakeHub.start();
  const config: RelayConfig = {
    connectUrl: hub.url,
    cluster: CLUSTER,
    token: TOKEN,
    allowedNamespaces: ['payments'],
    allowedActions: [...K8S_ACTIONS],
    healthPort: 0,
    idempotencyFile: null,
    idempotencyTtlMs: 3_600_000,
    idempotencyMaxEntries: 100,
    heartbeatMs: 1000,
    healthIntervalMs: 50,
    reconnectMinMs: 40,
    reconnectMaxMs: 400,
    logLevel: 'info',
    self: null,
    ...overrides,
  };
  relay = await startRelay(config, { kube: makeKube(api.kubeConfig()), log: silentLogger, pollIntervalMs: 20, random: () => 1, healthHost: '127.0.0.1' });
  return relay;
}

const readyz = async (r: Relay) => {
  const res = await fetch(`http://127.0.0.1:${r.healthPort}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; reasons: string[] } };
};

describe('the connection to the hub', () => {
  it('dials the cluster path with the token, says hello, and answers signed requests', async () => {
    hub = await FakeHub.start();
    await start();
    const conn = await hub.until(() => hub.connections[0]);
    expect(conn.path).toBe(`/api/v1/clusters/${CLUSTER}/connect`);
    expect(conn.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(conn.headers[PROTOCOL_HEADER]).toBe('1');
    const hello = await hub.until(() => conn.messages.find((m) => m.type === 'hello'));
    expect(hello).toMatchObject({
      protocol: 1,
      cluster: CLUSTER,
      allowlist: { namespaces: ['payments'], actions: [...K8S_ACTIONS] },
      capabilities: { actions: [...K8S_ACTIONS], dry_run: true, max_log_lines: 1000, signed_requests: true, cancel: true, effect_key: true },
    });
    expect(conn.messages.some((m) => m.type === 'health')).toBe(true);

    const res = await hub.request({ id: 'r1', idempotency_key: 'run_1:cordon:1', action: 'k8s.cordon_node', args: { cluster: CLUSTER, node: 'node-1' } });
    expect(res).toMatchObject({ ok: true, replayed: false, result: { unschedulable: true } });
    expect(api.cluster.nodes.get('node-1')!.spec.unschedulable).toBe(true);

    const pongs = () => conn.messages.filter((m) => m.type === 'pong').length;
    conn.ws.send(PING);
    await hub.until(() => pongs() === 1);
  });

  it('reconnects after the hub drops it, and a re-sent request is replayed, not repeated', async () => {
    hub = await FakeHub.start();
    await start();
    await hub.until(() => hub.connections[0]?.messages.find((m) => m.type === 'hello'));
    await hub.request({ id: 'r1', idempotency_key: 'run_1:cordon:1', action: 'k8s.cordon_node', args: { cluster: CLUSTER, node: 'node-1' } });

    hub.latest.ws.terminate();
    const second = await hub.until(() => hub.connections[1]);
    await hub.until(() => second.messages.find((m) => m.type === 'hello'));
    const again = await hub.request({ id: 'r2', idempotency_key: 'run_1:cordon:1', action: 'k8s.cordon_node', args: { cluster: CLUSTER, node: 'node-1' } });
    expect(again).toMatchObject({ ok: true, replayed: true });
    expect(api.count('PATCH', /./)).toBe(1);
  });

  it("a cancel from the hub stops the request in flight, which answers cancelled", async () => {
    hub = await FakeHub.start();
    await start();
    await hub.until(() => hub.connections[0]?.messages.find((m) => m.type === 'hello'));
    api.fault({ method: 'PATCH', path: /nodes\/node-1$/, delayMs: 5_000 });
    const answer = hub.request({ id: 'r1', idempotency_key: 'run_1:cordon:1', action: 'k8s.cordon_node', args: { cluster: CLUSTER, node: 'node-1' }, deadline_ms: Date.now() + 30_000 });
    await eventually(() => api.arrivals.some((r) => r.method === 'PATCH'));
    await hub.cancel('r1', 'run_1:cordon:1');
    expect(await answer).toMatchObject({ id: 'r1', ok: false, error: { code: 'cancelled', retryable: false } });
    expect(relay!.executor.inFlight).toBe(0);
  });

  it('backs off exponentially while the hub refuses it', async () => {
    hub = await FakeHub.start();
    hub.refuseWith = 401;
    await start();
    await hub.until(() => hub.attempts.length >= 5, 5000);
    const gaps = hub.attempts.slice(1, 5).map((t, i) => t - hub.attempts[i]!);
    // random() = 1 makes each delay the full step: 40, 80, 160, 320 ms.
    [40, 80, 160, 320].forEach((step, i) => expect(gaps[i]).toBeGreaterThanOrEqual(step - 5));
    expect(gaps[3]!).toBeGreaterThan(gaps[0]! * 4);
    expect(relay!.connection.connected).toBe(false);

    hub.refuseWith = null;
    await hub.until(() => hub.connections[0], 5000);
  });

  it('treats a hub that stops answering pings as gone and reconnects', async () => {
    hub = await FakeHub.start();
    hub.answerPings = false;
    await start({ heartbeatMs: 50 });
    await hub.until(() => hub.connections.length >= 2, 3000);
    expect(hub.connections[0]!.messages.filter((m) => m.type === 'ping').length).toBeGreaterThan(0);
  });
});

describe('health endpoints', () => {
  it('/healthz answers while the process runs; /readyz needs the hub and the API server', async () => {
    hub = await FakeHub.start();
    hub.refuseWith = 503;
    const r = await start();
    expect((await fetch(`http://127.0.0.1:${r.healthPort}/healthz`)).status).toBe(200);
    const down = await readyz(r);
    expect(down.status).toBe(503);
    expect(down.body.reasons).toContain('not connected to the hub');

    hub.refuseWith = null;
    const up = await eventually(async () => {
      const now = await readyz(r);
      return now.status === 200 && now;
    });
    expect(up.body).toMatchObject({ ready: true, reasons: [] });

    // The API server goes away: not ready, and the hub hears about it without waiting for the next report.
    await api.close();
    const down2 = await eventually(async () => {
      const now = await readyz(r);
      return now.status === 503 && now;
    });
    expect(down2.body.reasons.join()).toContain('Kubernetes API server not reachable');
    expect(down2.body.reasons).not.toContain('not connected to the hub');
    await hub.until(() => hub.latest.messages.some((m) => m.type === 'health' && !m.ready && !m.api_server.reachable));
  });
});

describe('backoffDelay', () => {
  it('doubles from the minimum up to the maximum, with half of each step jittered', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(4000);
    expect(backoffDelay(50, 1000, 60_000, () => 0.5)).toBe(45_000);
  });
});
