import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveSigningKey, signRequest } from '../contract/protocol';
import { FakeApiServer } from './fake-apiserver';
import { FakeHub } from './fake-hub';
import { CLUSTER, TOKEN, eventually } from './helpers';

/**
 * The built relay (dist/main.js, as the container runs it) as a real process: killed with SIGKILL
 * in the middle of a drain and started again on the same idempotency file, it finishes the drain
 * without evicting any pod twice.
 */

const relayDir = fileURLToPath(new URL('..', import.meta.url));
let api: FakeApiServer;
let hub: FakeHub;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: relayDir, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  api = await FakeApiServer.start();
  hub = await FakeHub.start();
  dir = mkdtempSync(join(tmpdir(), 'k8s-relay-process-'));
  writeFileSync(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      // The client refuses plain http unless TLS verification is off; the fake has no TLS.
      `clusters: [{ name: fake, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]`,
      `users: [{ name: relay, user: { token: ${api.token} } }]`,
      'contexts: [{ name: fake, context: { cluster: fake, user: relay } }]',
      'current-context: fake',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await hub?.close();
  await api?.close();
});

function startRelay(): ChildProcess {
  const child = spawn(process.execPath, [join(relayDir, 'dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: join(dir, 'kubeconfig'),
      HUB_URL: new URL(hub.url).origin.replace('ws:', 'http:'),
      CLUSTER_NAME: CLUSTER,
      CLUSTER_TOKEN_FILE: join(dir, 'token'),
      ALLOWED_NAMESPACES: '*',
      ALLOWED_ACTIONS: '*',
      HEALTH_PORT: '0',
      IDEMPOTENCY_FILE: join(dir, 'idempotency.json'),
      RECONNECT_MIN: '50ms',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

describe('the relay process', () => {
  it('killed mid-drain and restarted, completes the drain and evicts each pod once', async () => {
    const c = api.cluster;
    c.addNode('node-1');
    c.addNode('node-2');
    for (const i of [1, 2, 3]) c.addPod({ namespace: 'payments', name: `api-${i}`, node: 'node-1', labels: { app: 'api' }, owner: { kind: 'ReplicaSet', name: 'api-5c' } });
    // The second eviction is held long enough to kill the relay while it waits for the answer.
    api.fault({ method: 'POST', path: /api-2\/eviction$/, delayMs: 800 });

    const first = startRelay();
    await hub.until(() => hub.connections[0]?.messages.some((m) => m.type === 'hello'), 10_000);
    const request = { id: 'r1', idempotency_key: 'run_9:drain:1', action: 'k8s.drain_node', args: { cluster: CLUSTER, node: 'node-1' } };
    const signed = await signRequest(await deriveSigningKey(TOKEN), CLUSTER, { type: 'request', deadline_ms: Date.now() + 60_000, ...request });
    hub.latest.ws.send(JSON.stringify(signed));

    await eventually(() => api.arrivals.some((r) => r.path.endsWith('api-2/eviction')));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // The API server still carries out the eviction the relay was waiting on.
    await eventually(() => api.requests.some((r) => r.path.endsWith('api-2/eviction')));

    startRelay();
    await hub.until(() => hub.connections[1]?.messages.some((m) => m.type === 'hello'), 10_000);
    const res = await hub.request({ ...request, id: 'r2' });
    expect(res).toMatchObject({
      ok: true,
      result: { cordoned: true, evicted: 3, evicted_pods: ['payments/api-1', 'payments/api-2', 'payments/api-3'] },
    });
    for (const i of [1, 2, 3]) expect(api.count('POST', new RegExp(`api-${i}/eviction$`))).toBe(1);
    expect(c.podsOn('node-1')).toEqual([]);
  }, 30_000);
});
