import { abortAllDurableObjects, evictDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, PROTOCOL_HEADER, PROTOCOL_VERSION, deriveSigningKey, hubMessage, verifyCancel, verifyRequest } from '../k8s-relay/contract/protocol';
import type { CancelMessage, HealthMessage, HelloMessage, RequestMessage, ResponseMessage } from '../k8s-relay/contract/protocol';
import { callCluster, clusterBackend, clusterStub, isLiveCluster } from '../worker/clusters/backend';
import { makeDb } from '../worker/db/client';
import { clusters } from '../worker/db/schema';
import { LedgerInvoker } from '../worker/runs/invoke';
import { getTool } from '../worker/tools/catalog';
import { ToolError } from '../worker/tools/types';
import { BASE, api, json, newTenant, type TestTenant } from './helpers';

// The relay side is played by a WebSocket client inside workerd that speaks the protocol from
// k8s-relay/src/protocol.ts: it says hello, reports health, checks each request's signature and
// answers (or, to test re-delivery, does not).

let seq = 0;
const clusterName = () => `c${++seq}-${Math.random().toString(36).slice(2, 8)}`;

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function connectRequest(name: string, token: string | undefined, extra: Record<string, string> = {}): Request {
  const headers: Record<string, string> = { upgrade: 'websocket', [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), ...extra };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return new Request(`${BASE}/clusters/${name}/connect`, { headers });
}

/** A current relay's hello; `older` leaves out what relays before cancels and effect keys did not say. */
const HELLO = (cluster: string, opts: { older?: boolean } = {}): HelloMessage => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  relay_version: '0.1.0-test',
  cluster,
  allowlist: { namespaces: '*', actions: ['k8s.get_node', 'k8s.cordon_node', 'k8s.drain_node'] },
  capabilities: {
    actions: ['k8s.get_node', 'k8s.cordon_node', 'k8s.drain_node'],
    dry_run: true,
    max_log_lines: 1000,
    signed_requests: true,
    ...(opts.older ? {} : { cancel: true, effect_key: true }),
  },
});

const HEALTH = (reachable: boolean): HealthMessage => ({
  type: 'health',
  ready: reachable,
  api_server: { reachable, checked_at: new Date().toISOString(), latency_ms: 3, version: reachable ? 'v1.31.2' : null, error: reachable ? null : 'connect ECONNREFUSED' },
  in_flight: 0,
  uptime_s: 12,
});

class FakeRelay {
  readonly requests: RequestMessage[] = [];
  readonly cancels: CancelMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  /** Answers each request as it arrives; undefined leaves it unanswered. */
  answer: ((req: RequestMessage) => ResponseMessage | undefined) | undefined;

  private constructor(
    readonly ws: WebSocket,
    readonly cluster: string,
    private readonly signingKey: string,
  ) {}

  static async connect(cluster: string, token: string, opts: { hello?: boolean; older?: boolean } = {}): Promise<FakeRelay> {
    const res = await exports.default.fetch(connectRequest(cluster, token));
    if (res.status !== 101) throw new Error(`connect answered ${res.status}: ${await res.text()}`);
    const relay = new FakeRelay(res.webSocket!, cluster, await deriveSigningKey(token));
    relay.ws.addEventListener('message', (e) => void relay.receive(e.data as string));
    relay.ws.addEventListener('close', (e) => {
      relay.closed = { code: e.code, reason: e.reason };
    });
    relay.ws.accept();
    if (opts.hello !== false) {
      relay.send(HELLO(cluster, { older: opts.older }));
      relay.send(HEALTH(true));
    }
    return relay;
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  respond(req: RequestMessage, result: unknown): void {
    this.send({ type: 'response', id: req.id, idempotency_key: req.idempotency_key, ok: true, result, operations: [], dry_run: false, replayed: false });
  }

  private async receive(data: string): Promise<void> {
    const msg = hubMessage.parse(JSON.parse(data));
    if (msg.type === 'cancel') {
      expect(await verifyCancel(this.signingKey, this.cluster, msg)).toBe(true);
      this.cancels.push(msg);
      return;
    }
    if (msg.type !== 'request') return;
    const req = msg;
    // A real relay refuses anything whose signature does not verify with its token.
    expect(await verifyRequest(this.signingKey, this.cluster, req)).toBe(true);
    this.requests.push(req);
    const answer = this.answer?.(req);
    if (answer) this.send(answer);
  }

  close(): void {
    this.ws.close(1001, 'relay going away');
  }
}

const cordoned = (req: RequestMessage) => ({ cluster: req.args.cluster, node: req.args.node, unschedulable: true, was_unschedulable: false });
const okResponse = (req: RequestMessage): ResponseMessage => ({
  type: 'response',
  id: req.id,
  idempotency_key: req.idempotency_key,
  ok: true,
  result: cordoned(req),
  operations: [{ method: 'PATCH', target: `nodes/${String(req.args.node)}`, description: 'set spec.unschedulable' }],
  dry_run: false,
  replayed: false,
});

async function register(t: TestTenant, name = clusterName()): Promise<{ name: string; token: string }> {
  const res = await api('/clusters', { method: 'POST', key: t.keys.admin, json: { name } });
  const body = await json<{ name: string; token: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** A k8s tool call as the run engine's invoker makes it (through the cluster backend). */
async function cordon(t: TestTenant, cluster: string, key = `run_x:cordon:${Math.random()}`, opts: { timeoutMs?: number; signal?: AbortSignal; effectKey?: string } = {}) {
  const backend = await clusterBackend(env).executorFor(t.id, 'k8s.cordon_node');
  return backend!.call({
    tool: 'k8s.cordon_node',
    args: { cluster, node: 'node-1' },
    idempotencyKey: key,
    ...(opts.effectKey !== undefined ? { effectKey: opts.effectKey } : {}),
    signal: opts.signal ?? new AbortController().signal,
    timeoutMs: opts.timeoutMs ?? 5000,
  });
}

async function statusOf(t: TestTenant, name: string) {
  const res = await api(`/clusters/${name}`, { key: t.keys.viewer });
  expect(res.status).toBe(200);
  return json<Record<string, unknown>>(res);
}

async function rejection(p: Promise<unknown>): Promise<ToolError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ToolError);
  return err as ToolError;
}

describe('registering clusters', () => {
  it('returns the token once; the database keeps its hash and an encrypted signing key', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    expect(token).toMatch(/^arc_[0-9a-z]{40}$/);
    const [row] = await makeDb(env.DB).select().from(clusters).all().then((rows) => rows.filter((r) => r.tenantId === t.id));
    expect(row!.name).toBe(name);
    expect(JSON.stringify(row)).not.toContain(token);
    expect(JSON.stringify(row)).not.toContain(await deriveSigningKey(token));

    const list = await json<{ items: Record<string, unknown>[] }>(api('/clusters', { key: t.keys.viewer }));
    expect(list.items).toEqual([expect.objectContaining({ name, connected: false, relay_version: null, api_server_reachable: null, pending_requests: 0 })]);
    expect(JSON.stringify(list)).not.toContain(token);

    const audit = await json<{ items: { action: string; data: Record<string, unknown> }[] }>(api('/audit?action=cluster.registered', { key: t.keys.admin }));
    expect(audit.items).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it('refuses a second registration of the same name, bad names, and roles without manage', async () => {
    const t = await newTenant();
    const { name } = await register(t);
    const again = await api('/clusters', { method: 'POST', key: t.keys.admin, json: { name } });
    expect(again.status).toBe(409);
    expect((await json<{ error: { message: string } }>(again)).error.message).toContain(`DELETE /clusters/${name}`);

    const bad = await json<{ error: { details: { path: string; message: string }[] } }>(api('/clusters', { method: 'POST', key: t.keys.admin, json: { name: 'Prod_EU' } }));
    expect(bad.error.details).toEqual([{ path: 'name', message: expect.stringContaining('DNS label') }]);

    for (const role of ['viewer', 'operator', 'sre'] as const) {
      expect((await api('/clusters', { method: 'POST', key: t.keys[role], json: { name: clusterName() } })).status).toBe(403);
      expect((await api(`/clusters/${name}`, { method: 'DELETE', key: t.keys[role] })).status).toBe(403);
    }
  });

  it("another tenant's cluster is not found and not live, even under the same name", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const { name } = await register(a);
    expect((await api(`/clusters/${name}`, { key: b.keys.admin })).status).toBe(404);
    expect((await api(`/clusters/${name}`, { method: 'DELETE', key: b.keys.admin })).status).toBe(404);
    expect((await json<{ items: unknown[] }>(api('/clusters', { key: b.keys.admin }))).items).toEqual([]);
    expect(await isLiveCluster(env, a.id, name)).toBe(true);
    expect(await isLiveCluster(env, b.id, name)).toBe(false);
    expect(await isLiveCluster(env, a.id, 'prod-eu')).toBe(false);
    const err = await rejection(cordon(b, name));
    expect(err).toMatchObject({ code: 'not_registered', retryable: false });
    expect(err.message).toContain(`cluster "${name}" is not registered`);
  });
});

describe('the relay connection', () => {
  it('is refused without the right token, without an upgrade, or with another protocol', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const other = await register(t);
    expect((await exports.default.fetch(connectRequest(name, undefined))).status).toBe(401);
    expect((await exports.default.fetch(connectRequest(name, 'arc_wrong'))).status).toBe(401);
    expect((await exports.default.fetch(connectRequest(name, t.keys.admin))).status).toBe(401); // an API key is no cluster token
    const crossed = await exports.default.fetch(connectRequest(other.name, token)); // a token for another cluster
    expect(crossed.status).toBe(401);
    expect((await json<{ error: { message: string } }>(crossed)).error.message).toContain(other.name);
    expect((await exports.default.fetch(new Request(`${BASE}/clusters/${name}/connect`, { headers: { authorization: `Bearer ${token}` } }))).status).toBe(400);
    expect((await exports.default.fetch(connectRequest(name, token, { [PROTOCOL_HEADER]: '99' }))).status).toBe(426);
  });

  it('shows hello and health in GET /clusters, and the disconnection', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    const s = await until(async () => {
      const v = await statusOf(t, name);
      return v.last_health_at ? v : undefined;
    });
    expect(s).toMatchObject({
      connected: true,
      relay_version: '0.1.0-test',
      protocol: PROTOCOL_VERSION,
      allowlist: { namespaces: '*' },
      api_server_reachable: true,
      health: { ready: true, api_server: { reachable: true, version: 'v1.31.2' } },
      disconnected_at: null,
    });
    expect(Date.parse(s.last_seen_at as string)).toBeGreaterThan(Date.now() - 10_000);

    relay.send(HEALTH(false));
    await until(async () => (await statusOf(t, name)).api_server_reachable === false);

    relay.close();
    const after = await until(async () => {
      const v = await statusOf(t, name);
      return v.connected === false && v;
    });
    expect(after).toMatchObject({ last_close: { code: 1001, reason: 'relay going away' }, relay_version: '0.1.0-test' });
    expect(after.disconnected_at).toEqual(expect.any(String));
  });

  it('a newer connection replaces the older one', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const first = await FakeRelay.connect(name, token);
    const second = await FakeRelay.connect(name, token);
    await until(() => first.closed);
    expect(first.closed!.code).toBe(CLOSE_CODES.replaced);
    expect(await statusOf(t, name)).toMatchObject({ connected: true });
    second.answer = okResponse;
    await cordon(t, name);
    expect(first.requests).toHaveLength(0);
    expect(second.requests).toHaveLength(1);
  });

  it('a relay that says it serves another cluster is dropped', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token, { hello: false });
    relay.send(HELLO('somewhere-else'));
    await until(() => relay.closed);
    expect(relay.closed).toMatchObject({ code: CLOSE_CODES.protocol_error, reason: expect.stringContaining('somewhere-else') });
  });
});

describe('k8s calls through the relay', () => {
  it('round trip: a signed request with the key and deadline, the tool result back', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    relay.answer = okResponse;
    const before = Date.now();
    const result = await cordon(t, name, 'run_1:cordon:1', { timeoutMs: 60_000 });
    expect(result).toEqual({ cluster: name, node: 'node-1', unschedulable: true, was_unschedulable: false });
    const [req] = relay.requests;
    expect(req).toMatchObject({ type: 'request', idempotency_key: 'run_1:cordon:1', action: 'k8s.cordon_node', args: { cluster: name, node: 'node-1' } });
    expect(req!.deadline_ms).toBeGreaterThanOrEqual(before + 60_000);
    expect(req!.deadline_ms).toBeLessThan(Date.now() + 60_000 + 1000);
    expect((await statusOf(t, name)).pending_requests).toBe(0);
  });

  it("the relay's refusals become clear, non-retryable step errors", async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    relay.answer = (req) => ({
      type: 'response',
      id: req.id,
      idempotency_key: req.idempotency_key,
      ok: false,
      error: { code: 'namespace_not_allowed', message: 'pod kube-system/coredns-1 is in namespace "kube-system", which this relay may not act in (ALLOWED_NAMESPACES: payments)', retryable: false },
      replayed: false,
    });
    // Through the run engine's invoker, in live mode: the step error the run will show.
    const invoker = new LedgerInvoker(makeDb(env.DB), { record: async () => undefined }, { executorFor: (tenantId, toolId) => clusterBackend(env).executorFor(tenantId, toolId) });
    const outcome = await invoker.invoke({
      tool: getTool('k8s.drain_node')!,
      args: { cluster: name, node: 'node-1' },
      idempotencyKey: 'run_2:drain:1',
      tenantId: t.id,
      runId: 'run_2',
      stepId: 'drain',
      mode: 'live',
      world: {},
      timeoutMs: 5000,
      fresh: true,
    });
    expect(outcome).toMatchObject({ ok: false, retryable: false, mode: 'live' });
    const error = (outcome as { error: string }).error;
    expect(error).toContain(`relay for cluster "${name}" refused k8s.drain_node`);
    expect(error).toContain('ALLOWED_NAMESPACES: payments');
    expect(error).toContain('(namespace_not_allowed)');
  });

  it('an answer that does not fit the tool result schema is refused', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    relay.answer = (req) => ({ ...okResponse(req), result: { unschedulable: 'yes' } } as ResponseMessage);
    const err = await rejection(cordon(t, name));
    expect(err).toMatchObject({ code: 'bad_response', retryable: false });
    expect(err.message).toContain('unexpected shape');
  });

  it('without a relay the call waits a little, then fails retryably as not connected', async () => {
    const t = await newTenant();
    const { name } = await register(t);
    const started = Date.now();
    const err = await rejection(
      callCluster(env, t.id, { tool: 'k8s.cordon_node', args: { cluster: name, node: 'node-1' }, idempotencyKey: 'run_3:cordon:1', signal: new AbortController().signal, timeoutMs: 5000 }, { connectWaitMs: 200 }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(err).toMatchObject({ code: 'relay_not_connected', retryable: true });
    expect(err.message).toBe(`relay for cluster "${name}" is not connected (no relay has connected yet)`);
    expect((await statusOf(t, name)).pending_requests).toBe(0);
  });

  it('a request made while the relay is away goes out when it says hello', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const call = cordon(t, name, 'run_4:cordon:1');
    await until(async () => (await statusOf(t, name)).pending_requests === 1);
    const relay = await FakeRelay.connect(name, token);
    relay.answer = okResponse;
    await expect(call).resolves.toMatchObject({ unschedulable: true });
  });

  it('reconnect: an unanswered request is re-sent to the new connection (same id and key) and settles once', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const first = await FakeRelay.connect(name, token);
    const call = cordon(t, name, 'run_5:drain:1', { timeoutMs: 10_000 });
    const [sent] = await until(() => first.requests.length === 1 && first.requests);
    first.close(); // killed before answering

    await until(async () => {
      const s = await statusOf(t, name);
      return s.connected === false && s.pending_requests === 1;
    });
    const second = await FakeRelay.connect(name, token);
    const [resent] = await until(() => second.requests.length === 1 && second.requests);
    expect(resent).toEqual(sent); // byte for byte: same id, key, deadline and signature
    second.respond(resent!, cordoned(resent!));
    second.respond(resent!, { ...cordoned(resent!), was_unschedulable: true }); // a duplicate after a reconnect is ignored
    await expect(call).resolves.toEqual({ cluster: name, node: 'node-1', unschedulable: true, was_unschedulable: false });
    expect((await statusOf(t, name)).pending_requests).toBe(0);
  });

  it('the same idempotency key attaches to the call in flight; other arguments under it are refused', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    const a = cordon(t, name, 'run_6:cordon:1');
    await until(() => relay.requests.length === 1);
    const b = cordon(t, name, 'run_6:cordon:1'); // a re-delivery of the same attempt
    const conflict = await rejection(
      callCluster(env, t.id, { tool: 'k8s.cordon_node', args: { cluster: name, node: 'node-2' }, idempotencyKey: 'run_6:cordon:1', signal: new AbortController().signal, timeoutMs: 5000 }),
    );
    expect(conflict).toMatchObject({ code: 'idempotency_conflict', retryable: false });
    relay.respond(relay.requests[0]!, cordoned(relay.requests[0]!));
    expect(await a).toEqual(await b);
    expect(relay.requests).toHaveLength(1);
    // Once settled, the answer is remembered for a caller that comes back with the key.
    await expect(cordon(t, name, 'run_6:cordon:1')).resolves.toMatchObject({ unschedulable: true });
    expect(relay.requests).toHaveLength(1);
  });

  it('a failure a retry may cure is not remembered: the same key goes to the relay again', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    let calls = 0;
    relay.answer = (req) =>
      ++calls === 1
        ? { type: 'response', id: req.id, idempotency_key: req.idempotency_key, ok: false, error: { code: 'api_unavailable', message: 'cannot reach the Kubernetes API server (ECONNREFUSED)', retryable: true }, replayed: false }
        : okResponse(req);
    const first = await rejection(cordon(t, name, 'run_10:cordon:1'));
    expect(first).toMatchObject({ code: 'api_unavailable', retryable: true });
    expect(first.message).toBe(`cluster "${name}": k8s.cordon_node failed: cannot reach the Kubernetes API server (ECONNREFUSED) (api_unavailable)`);
    await expect(cordon(t, name, 'run_10:cordon:1')).resolves.toMatchObject({ unschedulable: true });
    expect(relay.requests.map((r) => r.idempotency_key)).toEqual(['run_10:cordon:1', 'run_10:cordon:1']);
  });

  it('a relay that takes the request and goes silent: the call ends at its deadline, retryably', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    const err = await rejection(cordon(t, name, 'run_11:cordon:1', { timeoutMs: 200 }));
    expect(relay.requests).toHaveLength(1);
    expect(err).toMatchObject({ code: 'deadline_exceeded', retryable: true });
    expect(err.message).toBe(`relay for cluster "${name}" did not answer k8s.cordon_node before its deadline (the relay is connected but did not answer)`);
    expect((await statusOf(t, name)).pending_requests).toBe(0);
  });

  it('a caller that gives up (timeout) is released at once', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    const controller = new AbortController();
    const call = cordon(t, name, 'run_7:cordon:1', { signal: controller.signal });
    await until(() => relay.requests.length === 1);
    controller.abort();
    const err = await rejection(call);
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('aborting the caller sends the relay a signed cancel for that request, through the cluster object, without waiting for it', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    const controller = new AbortController();
    const call = cordon(t, name, 'run_12:cordon:1', { signal: controller.signal, timeoutMs: 60_000 });
    const [sent] = await until(() => relay.requests.length === 1 && relay.requests);
    controller.abort();
    expect(await rejection(call)).toMatchObject({ code: 'timeout', retryable: true });
    const [cancel] = await until(() => relay.cancels.length === 1 && relay.cancels);
    expect(cancel).toMatchObject({ type: 'cancel', id: sent!.id, idempotency_key: 'run_12:cordon:1' });
    expect((await statusOf(t, name)).pending_requests).toBe(0);

    // The relay's own answer arrives later and changes nothing; the attempt stays cancelled.
    relay.send({ type: 'response', id: sent!.id, idempotency_key: sent!.idempotency_key, ok: false, error: { code: 'cancelled', message: 'the hub cancelled the request', retryable: false }, replayed: false });
    const again = await rejection(cordon(t, name, 'run_12:cordon:1'));
    expect(again).toMatchObject({ code: 'cancelled', retryable: false });
    expect(again.message).toContain('was cancelled by its caller while the relay was working on it');
    expect(relay.requests).toHaveLength(1);
  });

  it('a cancelled request is not re-sent to a relay that comes back; the relay gets the cancel instead', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const first = await FakeRelay.connect(name, token);
    const controller = new AbortController();
    const call = cordon(t, name, 'run_13:cordon:1', { signal: controller.signal, timeoutMs: 60_000 });
    const [sent] = await until(() => first.requests.length === 1 && first.requests);
    first.close();
    await until(async () => (await statusOf(t, name)).connected === false);
    controller.abort();
    await rejection(call);
    await until(async () => (await statusOf(t, name)).pending_requests === 0);

    const second = await FakeRelay.connect(name, token);
    const [cancel] = await until(() => second.cancels.length === 1 && second.cancels);
    expect(cancel).toMatchObject({ id: sent!.id, idempotency_key: 'run_13:cordon:1' });
    expect(second.requests).toHaveLength(0);
  });

  it('a call cancelled before it reached a relay is dropped, and an older relay is sent no cancel', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const controller = new AbortController();
    const unsent = cordon(t, name, 'run_14:cordon:1', { signal: controller.signal });
    await until(async () => (await statusOf(t, name)).pending_requests === 1);
    controller.abort();
    await rejection(unsent);
    await until(async () => (await statusOf(t, name)).pending_requests === 0);

    const older = await FakeRelay.connect(name, token, { older: true });
    await until(async () => (await statusOf(t, name)).connected);
    const other = new AbortController();
    const call = cordon(t, name, 'run_14:cordon:2', { signal: other.signal, effectKey: 'run_14:cordon' });
    const [req] = await until(() => older.requests.length === 1 && older.requests);
    expect(req!.effect_key).toBeUndefined(); // it would not verify a signed one
    other.abort();
    await rejection(call);
    await until(async () => (await statusOf(t, name)).pending_requests === 0);
    expect(older.cancels).toHaveLength(0);
    expect(older.requests.map((r) => r.idempotency_key)).toEqual(['run_14:cordon:2']);
  });

  it("the step's effect key goes to a relay that understands it, signed", async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    relay.answer = okResponse;
    await until(async () => (await statusOf(t, name)).connected); // the hub has read its hello
    await cordon(t, name, 'run_15:cordon:2', { effectKey: 'run_15:cordon' });
    expect(relay.requests[0]).toMatchObject({ idempotency_key: 'run_15:cordon:2', effect_key: 'run_15:cordon' });
  });

  it('a hibernated connection still carries calls, and the status survives eviction', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    relay.answer = okResponse;
    await until(async () => (await statusOf(t, name)).last_health_at);
    await evictDurableObject(clusterStub(env, t.id, name));
    expect(await statusOf(t, name)).toMatchObject({ connected: true, relay_version: '0.1.0-test', api_server_reachable: true });
    await expect(cordon(t, name)).resolves.toMatchObject({ unschedulable: true });
  });

  it('a pending request survives a restart of the object: the caller re-attaches and the relay gets it again', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const first = await FakeRelay.connect(name, token);
    const call = cordon(t, name, 'run_8:drain:1', { timeoutMs: 15_000 });
    const [sent] = await until(() => first.requests.length === 1 && first.requests);
    await abortAllDurableObjects(); // the object dies with the request unanswered
    await until(() => first.closed);
    const second = await FakeRelay.connect(name, token);
    const [resent] = await until(() => second.requests.length >= 1 && second.requests, 10_000);
    expect(resent).toEqual(sent);
    second.respond(resent!, cordoned(resent!));
    await expect(call).resolves.toMatchObject({ unschedulable: true });
  });

  it('revoking disconnects the relay, fails calls in flight, and refuses the old token', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    const relay = await FakeRelay.connect(name, token);
    const inflight = rejection(cordon(t, name, 'run_9:cordon:1'));
    await until(() => relay.requests.length === 1);

    const res = await api(`/clusters/${name}`, { method: 'DELETE', key: t.keys.admin });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ name, revoked_at: expect.any(String) });
    await until(() => relay.closed);
    expect(relay.closed!.code).toBe(CLOSE_CODES.unauthorized);
    expect(await inflight).toMatchObject({ code: 'revoked', retryable: false });

    expect((await exports.default.fetch(connectRequest(name, token))).status).toBe(401);
    expect((await api(`/clusters/${name}`, { key: t.keys.admin })).status).toBe(404);
    expect(await isLiveCluster(env, t.id, name)).toBe(false);
    expect(await rejection(cordon(t, name))).toMatchObject({ code: 'not_registered' });
    expect((await api(`/clusters/${name}`, { method: 'DELETE', key: t.keys.admin })).status).toBe(404);

    // The name can be registered again, with a new token; the old one stays refused.
    const again = await register(t, name);
    expect(again.token).not.toBe(token);
    expect((await exports.default.fetch(connectRequest(name, token))).status).toBe(401);
    const fresh = await FakeRelay.connect(name, again.token);
    fresh.answer = okResponse;
    await expect(cordon(t, name)).resolves.toMatchObject({ unschedulable: true });
  });
});

describe('a run cancelled during a long Kubernetes call', () => {
  it('answers at once, ends cancelled without waiting for the relay, and the relay is told to stop', async () => {
    const t = await newTenant();
    const { name, token } = await register(t);
    // A cluster nobody labelled is treated as production (approval first); this one is a dev cluster.
    expect((await api(`/clusters/${name}`, { method: 'PATCH', key: t.keys.admin, json: { labels: { environment: 'dev' } } })).status).toBe(200);
    const relay = await FakeRelay.connect(name, token); // never answers: the call hangs
    const rb = await api('/runbooks', {
      method: 'POST',
      key: t.keys.sre,
      yaml: `apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: slow-cordon }\nspec:\n  steps:\n    - id: cordon\n      tool: k8s.cordon_node\n      with: { cluster: ${name}, node: node-1 }\n`,
    });
    expect(rb.status).toBe(201);
    const started = await json<{ id: string }>(api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'slow-cordon' } }));
    // The run's own alarm starts the call; the relay has it and says nothing.
    const [sent] = await until(() => relay.requests.length === 1 && relay.requests, 10_000);
    const begun = Date.now();
    const res = await api(`/runs/${started.id}/cancel`, { method: 'POST', key: t.keys.sre, json: {} });
    const body = await json<{ status: string; steps: { status: string; outcome_unknown?: boolean }[] }>(res);
    console.log(`[cancel during a relay call] answered in ${Date.now() - begun} ms`);
    expect(res.status).toBe(200);
    expect(body.status).toBe('cancelled');
    // The cordon may have happened: the step says so rather than claiming it was skipped.
    expect(body.steps[0]).toMatchObject({ status: 'failed', outcome_unknown: true });
    const [cancel] = await until(() => relay.cancels.length === 1 && relay.cancels);
    expect(cancel).toMatchObject({ id: sent!.id, idempotency_key: sent!.idempotency_key });
  });
});
