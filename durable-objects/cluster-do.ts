import { DurableObject } from 'cloudflare:workers';
import { CLOSE_CODES, PING, PONG, PROTOCOL_HEADER, PROTOCOL_VERSION, isK8sAction, relayMessage, signCancel, signRequest } from '../k8s-relay/contract/protocol';
import type { CancelMessage, RelayMessage, ResponseMessage } from '../k8s-relay/contract/protocol';
import { getCluster, signingKeyOf, type ClusterRow } from '../worker/clusters/store';
import { EMPTY_META, RecentKeys, expired, failure, outcomeOf, statusOf, type PendingRequest, type RelayMeta, type SettledRequest, type SocketInfo } from '../worker/clusters/relay-state';
import { CONNECT_HEADERS, type CallOutcome, type ClusterCall, type RelayStatus } from '../worker/clusters/types';
import { DEADLINE_GRACE_MS, DEFAULT_CONNECT_WAIT_MS } from '../worker/clusters/errors';
import { makeDb } from '../worker/db/client';
import type { Env } from '../worker/env';
import { log as structured, registerSecrets } from '../worker/observability/log';
import { canonicalJson, newId, sha256Hex } from '../worker/lib/crypto';

/** WebSocket readyState OPEN (the same in workerd and the DOM). */
const OPEN = 1;

const PENDING = 'req:';
const SETTLED = 'done:';
/** A caller whose connection to this object broke re-attaches by idempotency key within this. */
const KEEP_SETTLED_MS = 15 * 60_000;

type Waiter = { resolve: (o: CallOutcome) => void; timers: ReturnType<typeof setTimeout>[] };

/**
 * One registered cluster of one tenant (id `tenantId:name`): holds its relay's hibernatable
 * WebSocket, remembers the relay's hello and health, and carries k8s tool calls to it. Every
 * request is persisted before it is sent and stays pending until the relay answers or its
 * deadline passes, so a relay that reconnects (or this object restarting) gets it again: the relay
 * dedupes by idempotency key, so the action still happens once.
 */
export class ClusterDO extends DurableObject<Env> {
  private meta: RelayMeta = EMPTY_META;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly settled = new Map<string, SettledRequest>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Keys cancelled before their call registered here (the two RPCs race); a minute is ample. */
  private readonly cancelledEarly = new RecentKeys(60_000, 1000);
  private signing: { tokenHash: string; key: string } | undefined;
  private lastMessageAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    registerSecrets(env); // an object in a fresh isolate may log before any request registered them
    // Pings are answered without waking the object; their time shows as "last seen".
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    ctx.blockConcurrencyWhile(async () => {
      this.meta = (await ctx.storage.get<RelayMeta>('meta')) ?? { ...EMPTY_META };
      for (const p of (await ctx.storage.list<PendingRequest>({ prefix: PENDING })).values()) this.pending.set(p.id, p);
      for (const s of (await ctx.storage.list<SettledRequest>({ prefix: SETTLED })).values()) this.settled.set(s.key, s);
    });
  }

  /** Sends one k8s tool call to the relay and waits for its answer (or its deadline). */
  async call(c: ClusterCall): Promise<CallOutcome> {
    if (!isK8sAction(c.action)) return failure('invalid_request', `${c.action} is not a Kubernetes action`, false);
    const argsHash = await sha256Hex(canonicalJson([c.action, c.args, c.dryRun === true]));
    const attached = this.attach(c, argsHash);
    if (attached) return attached;
    if (c.deadlineMs <= Date.now()) return failure('deadline_exceeded', `the deadline of ${c.action} passed before it was sent to cluster "${c.cluster}"`, true);

    const row = await getCluster(makeDb(this.env.DB), c.tenantId, c.cluster);
    if (!row) return failure('not_registered', `cluster "${c.cluster}" is not registered (or was revoked); register it with POST /clusters or run in simulated mode`, false);
    const signingKey = await this.signingKey(row);
    const id = newId('rq');
    // An older relay would not verify a signed effect key: it gets none, and marks a restart with the attempt key.
    const effectKey = c.effectKey !== undefined && this.meta.hello?.capabilities.effect_key === true ? { effect_key: c.effectKey } : {};
    const request = await signRequest(signingKey, c.cluster, {
      type: 'request',
      id,
      idempotency_key: c.idempotencyKey,
      ...effectKey,
      action: c.action,
      args: c.args,
      ...(c.dryRun ? { dry_run: true } : {}),
      deadline_ms: c.deadlineMs,
    });
    const cancel = await signCancel(signingKey, c.cluster, { type: 'cancel', id, idempotency_key: c.idempotencyKey });
    // Another call with the same key may have arrived while this one awaited, or its cancel.
    const raced = this.attach(c, argsHash);
    if (raced) return raced;
    if (this.cancelledEarly.take(c.idempotencyKey)) return failure('cancelled', `${c.action} on cluster "${c.cluster}" was cancelled by its caller before it was sent`, false);
    const p: PendingRequest = { id, key: c.idempotencyKey, cluster: c.cluster, argsHash, request, cancel, tokenHash: row.tokenHash, deadlineMs: c.deadlineMs, createdAt: Date.now(), sentAt: null, sends: 0 };
    this.pending.set(p.id, p);
    await this.ctx.storage.put(PENDING + p.id, p); // persisted before it can act anywhere
    await this.armAlarm();
    const outcome = this.wait(p, c.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS);
    await this.send(p);
    return outcome;
  }

  /**
   * The caller gave up on the call with this idempotency key (its signal fired: the step's timeout,
   * a cancelled run). The request is settled as cancelled, so it is never sent again, and the relay
   * is asked to stop it (the relay's own `cancelled` answer is then dropped like any late one). A
   * key with nothing in flight is a no-op.
   */
  async cancel(key: string): Promise<void> {
    const p = [...this.pending.values()].find((x) => x.key === key);
    if (!p) {
      if (!this.settled.has(key)) this.cancelledEarly.add(key);
      return;
    }
    // Only a request that went out can be running at the relay.
    const cancel = p.sentAt !== null ? p.cancel : undefined;
    const where = p.sentAt === null ? 'before it reached the relay' : 'while the relay was working on it';
    await this.settle(p, failure('cancelled', `${p.request.action} on cluster "${p.cluster}" was cancelled by its caller ${where}`, false), cancel);
    if (cancel) this.sendCancel(cancel, p.tokenHash);
    log('info', 'request cancelled', { cluster: p.cluster, id: p.id, idempotency_key: key, sent: p.sentAt !== null });
  }

  /** What `GET /clusters` shows about the relay. */
  status(): RelayStatus {
    return statusOf(this.meta, { connected: this.readySockets().length > 0, lastSeenMs: this.lastSeen(), pending: this.pending.size });
  }

  /** The cluster was revoked: drop the relay, fail what is in flight, forget everything. */
  async revoke(): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) safeClose(ws, CLOSE_CODES.unauthorized, 'cluster token revoked');
    for (const p of [...this.pending.values()]) {
      this.resolve(p.id, failure('revoked', `cluster "${p.cluster}" was revoked while ${p.request.action} was in flight; whether it acted is unknown`, false));
    }
    this.pending.clear();
    this.settled.clear();
    this.signing = undefined;
    this.meta = { ...EMPTY_META };
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** The relay's upgrade, already authenticated by the connect route (which set CONNECT_HEADERS). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('Expected a WebSocket upgrade', { status: 426 });
    if (request.headers.get(PROTOCOL_HEADER) !== String(PROTOCOL_VERSION)) return new Response('unsupported relay protocol', { status: 426 });
    const tenantId = request.headers.get(CONNECT_HEADERS.tenant);
    const cluster = request.headers.get(CONNECT_HEADERS.cluster);
    const tokenHash = request.headers.get(CONNECT_HEADERS.tokenHash);
    if (!tenantId || !cluster || !tokenHash) return new Response('unauthenticated connection', { status: 401 });
    // One relay per cluster: the newest connection wins (a restarted relay replaces its old socket).
    for (const old of this.ctx.getWebSockets()) safeClose(old, CLOSE_CODES.replaced, 'replaced by a newer connection');
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    server.serializeAttachment({ tenantId, cluster, tokenHash, connectedAt: now, helloAt: null } satisfies SocketInfo);
    this.meta = { ...this.meta, connectedAt: now, disconnectedAt: null };
    await this.ctx.storage.put('meta', this.meta);
    log('info', 'relay connected', { tenant_id: tenantId, cluster });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const info = ws.deserializeAttachment() as SocketInfo | null;
    if (!info) return safeClose(ws, CLOSE_CODES.protocol_error, 'unknown connection');
    if (typeof data !== 'string') return safeClose(ws, CLOSE_CODES.protocol_error, 'binary frames are not part of the protocol');
    this.lastMessageAt = Date.now();
    let msg: RelayMessage;
    try {
      msg = relayMessage.parse(JSON.parse(data));
    } catch {
      log('warn', 'ignored an invalid frame from the relay', { cluster: info.cluster, bytes: data.length });
      return;
    }
    if (msg.type === 'ping') ws.send(PONG);
    else if (msg.type === 'hello') await this.onHello(ws, info, msg);
    else if (msg.type === 'health') {
      this.meta = { ...this.meta, health: msg, healthAt: Date.now() };
      await this.ctx.storage.put('meta', this.meta);
    } else if (msg.type === 'response') await this.onResponse(msg);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.onGone(ws, code, reason);
    safeClose(ws, code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, 'closing');
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.onGone(ws, 1006, 'connection error');
  }

  /** Prunes what outlived its deadline (requests nobody waits for after a restart, old answers). */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const p of [...this.pending.values()]) {
      if (p.deadlineMs + DEADLINE_GRACE_MS <= now) await this.settle(p, this.expiredOutcome(p));
    }
    const stale = [...this.settled.values()].filter((s) => s.expiresAt <= now);
    for (const s of stale) this.settled.delete(s.key);
    if (stale.length) await this.ctx.storage.delete(stale.map((s) => SETTLED + s.key));
    await this.armAlarm();
  }

  private async onHello(ws: WebSocket, info: SocketInfo, hello: Extract<RelayMessage, { type: 'hello' }>): Promise<void> {
    if (hello.protocol !== PROTOCOL_VERSION) return safeClose(ws, CLOSE_CODES.unsupported_protocol, `protocol ${hello.protocol} is not supported (hub speaks ${PROTOCOL_VERSION})`);
    if (hello.cluster !== info.cluster) return safeClose(ws, CLOSE_CODES.protocol_error, `relay serves cluster "${hello.cluster}" but connected as "${info.cluster}"`);
    const now = Date.now();
    ws.serializeAttachment({ ...info, helloAt: now } satisfies SocketInfo);
    this.meta = { ...this.meta, hello, helloAt: now };
    await this.ctx.storage.put('meta', this.meta);
    log('info', 'relay said hello', { tenant_id: info.tenantId, cluster: info.cluster, relay_version: hello.relay_version, pending: this.pending.size });
    // Whatever is unanswered goes (again) to the new connection; the relay dedupes by key.
    for (const p of [...this.pending.values()]) {
      if (p.deadlineMs > now) await this.send(p);
    }
    // Cancels that may not have reached the relay (it was away), while their requests could still run there.
    for (const s of this.settled.values()) {
      if (s.cancel && (s.cancelUntil ?? 0) > now) this.sendCancel(s.cancel, info.tokenHash);
    }
  }

  private async onResponse(msg: ResponseMessage): Promise<void> {
    const p = this.pending.get(msg.id);
    // Answers for requests no longer pending (settled, expired, or answered twice after a reconnect) are dropped.
    if (!p || p.key !== msg.idempotency_key) return;
    await this.settle(p, outcomeOf(msg));
  }

  private async onGone(ws: WebSocket, code: number, reason: string): Promise<void> {
    const info = ws.deserializeAttachment() as SocketInfo | null;
    // A socket replaced by a newer one does not make the cluster disconnected.
    if (this.ctx.getWebSockets().some((s) => s !== ws && s.readyState === OPEN)) return;
    this.meta = { ...this.meta, disconnectedAt: Date.now(), lastClose: { code, reason: reason.slice(0, 200) } };
    await this.ctx.storage.put('meta', this.meta);
    log('warn', 'relay disconnected', { tenant_id: info?.tenantId, cluster: info?.cluster, code, pending: this.pending.size });
  }

  /** Returns the outcome of an earlier call with the same key, or waits on it; undefined if there is none. */
  private attach(c: ClusterCall, argsHash: string): Promise<CallOutcome> | undefined {
    const done = this.settled.get(c.idempotencyKey);
    const inflight = done ? undefined : [...this.pending.values()].find((p) => p.key === c.idempotencyKey);
    const known = done ?? inflight;
    if (!known) return undefined;
    if (known.argsHash !== argsHash) {
      return Promise.resolve(failure('idempotency_conflict', `idempotency key ${c.idempotencyKey} was already used for another ${c.action} call on cluster "${c.cluster}"`, false));
    }
    return done ? Promise.resolve(done.outcome) : this.wait(inflight!, c.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS);
  }

  private wait(p: PendingRequest, connectWaitMs: number): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, timers: [] };
      const remaining = p.deadlineMs + DEADLINE_GRACE_MS - Date.now();
      waiter.timers.push(setTimeout(() => void this.expire(p.id), Math.max(0, remaining)));
      if (p.sentAt === null && connectWaitMs < remaining) {
        waiter.timers.push(setTimeout(() => void this.giveUpIfUnsent(p.id), Math.max(0, connectWaitMs)));
      }
      let set = this.waiters.get(p.id);
      if (!set) this.waiters.set(p.id, (set = new Set()));
      set.add(waiter);
    });
  }

  private async expire(id: string): Promise<void> {
    const p = this.pending.get(id);
    if (p) await this.settle(p, this.expiredOutcome(p));
  }

  /** No relay took the request in time: it never left, so it is dropped rather than remembered. */
  private async giveUpIfUnsent(id: string): Promise<void> {
    const p = this.pending.get(id);
    if (!p || p.sentAt !== null) return;
    this.pending.delete(id);
    this.resolve(id, this.expiredOutcome(p));
    await this.ctx.storage.delete(PENDING + id);
  }

  private expiredOutcome(p: PendingRequest): CallOutcome {
    return expired(p, this.meta, this.lastSeen(), this.readySockets().length > 0);
  }

  /**
   * Wakes the waiters and keeps the answer a while for callers that re-attach by key. Failures a
   * retry may cure are not kept, as the relay does not keep them: a re-delivery runs again and
   * resumes where the relay stopped.
   */
  private async settle(p: PendingRequest, outcome: CallOutcome, cancel?: CancelMessage): Promise<void> {
    if (!this.pending.delete(p.id)) return;
    this.resolve(p.id, outcome);
    if (outcome.ok || !outcome.error.retryable) {
      const s: SettledRequest = {
        key: p.key,
        argsHash: p.argsHash,
        outcome,
        expiresAt: Math.max(p.deadlineMs, Date.now()) + KEEP_SETTLED_MS,
        ...(cancel ? { cancel, cancelUntil: p.deadlineMs } : {}),
      };
      this.settled.set(p.key, s);
      await this.ctx.storage.put(SETTLED + p.key, s);
    }
    await this.ctx.storage.delete(PENDING + p.id);
    await this.armAlarm();
  }

  private resolve(id: string, outcome: CallOutcome): void {
    for (const w of this.waiters.get(id) ?? []) {
      for (const t of w.timers) clearTimeout(t);
      w.resolve(outcome);
    }
    this.waiters.delete(id);
  }

  /** Sends a pending request on the relay's socket, if one is ready (said hello, same token). */
  private async send(p: PendingRequest): Promise<void> {
    const ws = this.readySockets().find((s) => (s.deserializeAttachment() as SocketInfo).tokenHash === p.tokenHash);
    if (!ws) return;
    try {
      ws.send(JSON.stringify(p.request));
    } catch {
      return; // closing under us: the next hello re-sends it
    }
    p.sentAt = Date.now();
    p.sends += 1;
    if (this.pending.has(p.id)) await this.ctx.storage.put(PENDING + p.id, p);
  }

  /** Sends a cancel to the relay if it is there and understands cancels (an older relay runs on to the deadline). */
  private sendCancel(cancel: CancelMessage, tokenHash: string): void {
    if (this.meta.hello?.capabilities.cancel !== true) return;
    const ws = this.readySockets().find((s) => (s.deserializeAttachment() as SocketInfo).tokenHash === tokenHash);
    try {
      ws?.send(JSON.stringify(cancel));
    } catch {
      // closing under us: the next hello sends it again
    }
  }

  private readySockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === OPEN && (ws.deserializeAttachment() as SocketInfo | null)?.helloAt);
  }

  private lastSeen(): number | null {
    const times = [this.meta.helloAt, this.meta.healthAt, this.lastMessageAt];
    for (const ws of this.ctx.getWebSockets()) times.push(this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? null);
    const seen = times.filter((t): t is number => typeof t === 'number');
    return seen.length ? Math.max(...seen) : null;
  }

  private async signingKey(row: ClusterRow): Promise<string> {
    if (this.signing?.tokenHash !== row.tokenHash) this.signing = { tokenHash: row.tokenHash, key: await signingKeyOf(this.env, row) };
    return this.signing.key;
  }

  private async armAlarm(): Promise<void> {
    const times = [...[...this.pending.values()].map((p) => p.deadlineMs + DEADLINE_GRACE_MS), ...[...this.settled.values()].map((s) => s.expiresAt)];
    if (times.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.min(...times));
  }
}

function safeClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

/** Through the structured logger, so these lines are redacted and scrubbed like every other. */
function log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
  structured[level](message, fields);
}
