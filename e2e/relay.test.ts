// The platform (wrangler dev: workerd, the cluster's Durable Object) and the real k8s-relay
// process (k8s-relay/dist/main.js, as the container runs it) over a real WebSocket, the relay
// acting on the fake Kubernetes API server of k8s-relay/test through @kubernetes/client-node.
// A drain run succeeds on the fake cluster; the relay killed in the middle of the drain and
// started again finishes it with every pod evicted once; the relay's allowlist refuses a drain
// with a clear step error; a step that times out stops the relay's drain in flight (the request's
// deadline is the step's; the hub's cancel follows it); GET /clusters shows the relay's health.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FakeApiServer } from '../k8s-relay/test/fake-apiserver';
import { ROOT, createRunbook, getRun, newTenantApi, pollUntil, startRun, uniqueName, waitForRun, type Api } from './helpers';

const e2e = inject('e2e');
const RELAY_DIR = path.join(ROOT, 'k8s-relay');

let kube: FakeApiServer;
let dir: string;
let api: Api;
let cluster: string;
let relay: ChildProcess | undefined;
const relayLogs: string[] = [];

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: RELAY_DIR, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`k8s-relay build failed: ${build.stderr}`);
  kube = await FakeApiServer.start();
  dir = mkdtempSync(path.join(os.tmpdir(), 'agentrunbook-relay-e2e-'));
  // Its own tenant: a registered cluster makes that tenant's k8s calls on it live, and the other
  // suites' runs must stay simulated.
  api = await newTenantApi(e2e.url, e2e.adminKey, 'e2e-relay');
  cluster = uniqueName('e2e-k8s');
  // Labelled: the default policy treats a registered cluster without an environment as production.
  const registered = await api('POST', '/clusters', { json: { name: cluster, labels: { environment: 'e2e' } } });
  if (registered.status !== 201) throw new Error(`POST /clusters answered ${registered.status}: ${registered.text}`);
  writeFileSync(path.join(dir, 'token'), `${registered.body.token}\n`, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      // The client refuses plain http unless TLS verification is off; the fake has no TLS.
      `clusters: [{ name: fake, cluster: { server: "${kube.url}", insecure-skip-tls-verify: true } }]`,
      `users: [{ name: relay, user: { token: ${kube.token} } }]`,
      'contexts: [{ name: fake, context: { cluster: fake, user: relay } }]',
      'current-context: fake',
    ].join('\n'),
  );
  relay = startRelay();
});

afterAll(async () => {
  relay?.kill('SIGKILL');
  await kube?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The built relay, configured as deploy/deployment.yaml does, against wrangler dev and the fake API server. */
function startRelay(): ChildProcess {
  const child = spawn(process.execPath, [path.join(RELAY_DIR, 'dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: path.join(dir, 'kubeconfig'),
      HUB_URL: e2e.url,
      CLUSTER_NAME: cluster,
      CLUSTER_TOKEN_FILE: path.join(dir, 'token'),
      ALLOWED_NAMESPACES: 'payments',
      ALLOWED_ACTIONS: '*',
      HEALTH_PORT: '0',
      HEALTH_INTERVAL: '1s',
      IDEMPOTENCY_FILE: path.join(dir, 'idempotency.json'),
      RECONNECT_MIN: '100ms',
      RECONNECT_MAX: '1s',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => relayLogs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => relayLogs.push(d.toString()));
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

interface ClusterView {
  name: string;
  connected: boolean;
  relay_version: string | null;
  api_server_reachable: boolean | null;
  allowlist: { namespaces: '*' | string[]; actions: string[] } | null;
  health: { ready: boolean; api_server: { version: string | null } } | null;
  last_seen_at: string | null;
  pending_requests: number;
}

async function clusterStatus(): Promise<ClusterView> {
  const res = await api<{ items: ClusterView[] }>('GET', '/clusters');
  if (res.status !== 200) throw new Error(`GET /clusters answered ${res.status}: ${res.text}`);
  const view = res.body.items.find((c) => c.name === cluster);
  if (!view) throw new Error(`cluster ${cluster} is not listed`);
  return view;
}

const connectedAndHealthy = (s: ClusterView) => s.connected && s.api_server_reachable === true;

const drainRunbook = (name: string) => `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${name}
  description: e2e — cordon and drain a node through the cluster's relay
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: ${cluster}, node: '\${{ inputs.node }}' }
    - id: drain
      tool: k8s.drain_node
      with: { cluster: ${cluster}, node: '\${{ inputs.node }}' }
      timeout: 2m
      verify: { tool: k8s.get_node, expect: 'result.unschedulable == true' }
`;

describe('the k8s relay end to end', () => {
  it('GET /clusters shows the relay connected, with its version, allowlist and API-server health', async () => {
    const s = await pollUntil('the relay to connect and report a reachable API server', clusterStatus, connectedAndHealthy, { timeoutMs: 30_000 });
    expect(s.relay_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(s.allowlist).toEqual({ namespaces: ['payments'], actions: expect.arrayContaining(['k8s.drain_node', 'k8s.get_node']) });
    expect(s.health).toMatchObject({ ready: true, api_server: { version: 'v1.31.2' } });
    expect(Date.parse(s.last_seen_at!)).toBeGreaterThan(Date.now() - 30_000);
  });

  it('a drain run acts on the cluster; the relay killed mid-drain and restarted finishes it with each pod evicted once', async () => {
    const c = kube.cluster;
    c.addNode('node-1');
    c.addNode('node-2');
    for (const i of [1, 2, 3]) c.addPod({ namespace: 'payments', name: `api-${i}`, node: 'node-1', labels: { app: 'api' }, owner: { kind: 'ReplicaSet', name: 'api-5c' } });
    // The API server holds the second eviction long enough to kill the relay while it waits.
    kube.fault({ method: 'POST', path: /api-2\/eviction$/, delayMs: 1500 });
    await pollUntil('the relay to be connected', clusterStatus, connectedAndHealthy);

    const { name } = await createRunbook(api, drainRunbook(uniqueName('e2e-relay-drain')));
    const id = await startRun(api, name, { node: 'node-1' });

    await pollUntil('the drain to reach the second eviction', async () => kube.arrivals.some((r) => r.path.endsWith('api-2/eviction')), Boolean, { timeoutMs: 30_000, intervalMs: 20 });
    await kill(relay!);
    // The API server still carries out the eviction the relay was waiting on.
    await pollUntil('the held eviction to complete', async () => kube.requests.some((r) => r.path.endsWith('api-2/eviction')), Boolean, { intervalMs: 50 });
    const away = await clusterStatus();
    expect(away).toMatchObject({ connected: false, pending_requests: 1 });
    expect((await getRun(api, id)).steps.find((s) => s.id === 'drain')?.status).toBe('running');

    relay = startRelay();
    const run = await waitForRun(api, id, ['succeeded'], 60_000);

    const drain = run.steps.find((s) => s.id === 'drain')! as (typeof run.steps)[number] & { integration_mode?: string };
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['cordon', 'succeeded'],
      ['drain', 'succeeded'],
    ]);
    expect(drain.integration_mode).toBe('live');
    expect(drain.attempts).toBe(1);
    expect(drain.result).toMatchObject({ cordoned: true, evicted: 3, evicted_pods: ['payments/api-1', 'payments/api-2', 'payments/api-3'] });
    // What the cluster saw: the node cordoned once, each pod evicted exactly once, none left.
    for (const i of [1, 2, 3]) expect(kube.count('POST', new RegExp(`/pods/api-${i}/eviction$`)), `evictions of api-${i}`).toBe(1);
    expect(kube.count('PATCH', /\/nodes\/node-1$/)).toBe(1);
    expect(c.nodes.get('node-1')!.spec.unschedulable).toBe(true);
    expect(c.podsOn('node-1')).toEqual([]);

    const after = await pollUntil('the new relay connection to be healthy', clusterStatus, connectedAndHealthy);
    expect(after.pending_requests).toBe(0);
  });

  it("the relay's allowlist refuses a drain that would evict outside its namespaces: a clear step error, the node untouched", async () => {
    const c = kube.cluster;
    c.addNode('node-3');
    c.addPod({ namespace: 'kube-system', name: 'coredns-1', node: 'node-3', labels: { k8s: 'dns' }, owner: { kind: 'ReplicaSet', name: 'coredns-7f' } });
    await pollUntil('the relay to be connected', clusterStatus, connectedAndHealthy);
    const { name } = await createRunbook(
      api,
      `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${uniqueName('e2e-relay-refused')}
spec:
  steps:
    - id: drain
      tool: k8s.drain_node
      with: { cluster: ${cluster}, node: node-3 }
      timeout: 1m
`,
    );
    const id = await startRun(api, name);
    const run = await waitForRun(api, id, ['failed'], 30_000);
    const drain = run.steps.find((s) => s.id === 'drain')!;
    expect(drain.status).toBe('failed');
    expect(drain.attempts).toBe(1);
    expect(String(drain.error)).toContain(`relay for cluster "${cluster}" refused k8s.drain_node`);
    expect(String(drain.error)).toContain('kube-system');
    expect(String(drain.error)).toContain('(namespace_not_allowed)');
    expect(c.nodes.get('node-3')!.spec.unschedulable ?? false).toBe(false);
    expect(kube.count('POST', /coredns-1\/eviction$/)).toBe(0);
  });

  it('a step that times out stops the drain in flight at the relay: no further pod is evicted', async () => {
    const c = kube.cluster;
    c.addNode('node-4');
    for (const pod of ['web-1', 'web-2']) c.addPod({ namespace: 'payments', name: pod, node: 'node-4', labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web-6d' } });
    // The API server holds the first eviction far past the step's timeout.
    kube.fault({ method: 'POST', path: /web-1\/eviction$/, delayMs: 30_000 });
    await pollUntil('the relay to be connected', clusterStatus, connectedAndHealthy);
    const { name } = await createRunbook(
      api,
      `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${uniqueName('e2e-relay-cancel')}
spec:
  steps:
    - id: drain
      tool: k8s.drain_node
      with: { cluster: ${cluster}, node: node-4 }
      timeout: 3s
      retry: { attempts: 1 }
`,
    );
    const started = Date.now();
    const id = await startRun(api, name);
    const run = await waitForRun(api, id, ['failed'], 30_000);
    expect(run.steps.find((s) => s.id === 'drain')).toMatchObject({ status: 'failed', attempts: 1 });
    // The relay stopped (at the deadline, which is the step's timeout, or at the hub's cancel that
    // follows it) long before the held eviction would have returned. A cancelled run stops it the
    // same way once the run engine aborts calls on cancel.
    const stopped = (line: string) => line.includes('"request failed"') && line.includes('"node":"node-4"') && /"code":"(deadline_exceeded|cancelled)"/.test(line);
    await pollUntil('the relay to stop the drain', async () => relayLogs.join('').split('\n'), (lines) => lines.some(stopped), { timeoutMs: 10_000, intervalMs: 50 });
    expect(Date.now() - started).toBeLessThan(25_000);
    const after = await pollUntil('nothing pending', clusterStatus, (v) => v.pending_requests === 0);
    expect(after.connected).toBe(true);
    expect(kube.arrivals.filter((r) => r.path.endsWith('web-2/eviction'))).toHaveLength(0);
  });
});
