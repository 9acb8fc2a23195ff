/**
 * The pure part of a cluster's Durable Object: what it persists about its relay and its
 * requests, and how those turn into outcomes and the status `GET /clusters` shows.
 */
import type { CancelMessage, HealthMessage, HelloMessage, RequestMessage, ResponseMessage } from '../../k8s-relay/contract/protocol';
import type { CallError, CallOutcome, RelayStatus } from './types';

/** What the object remembers about its relay connections (storage key `meta`). */
export interface RelayMeta {
  connectedAt: number | null;
  disconnectedAt: number | null;
  lastClose: { code: number; reason: string } | null;
  hello: HelloMessage | null;
  helloAt: number | null;
  health: HealthMessage | null;
  healthAt: number | null;
}

export const EMPTY_META: RelayMeta = { connectedAt: null, disconnectedAt: null, lastClose: null, hello: null, helloAt: null, health: null, healthAt: null };

/** Kept on each accepted socket (`serializeAttachment`), so it survives hibernation. */
export interface SocketInfo {
  tenantId: string;
  cluster: string;
  /** The token the relay authenticated with: requests signed for another token are not sent to it. */
  tokenHash: string;
  connectedAt: number;
  helloAt: number | null;
}

/** A request sent (or waiting to be sent) to the relay and not answered yet. */
export interface PendingRequest {
  id: string;
  key: string;
  cluster: string;
  /** Hash of action, arguments and dry-run flag: a re-attaching call must ask for the same thing. */
  argsHash: string;
  request: RequestMessage;
  /** Signed with the request, so cancelling needs no key lookup; absent on requests stored before cancels existed. */
  cancel?: CancelMessage;
  tokenHash: string;
  deadlineMs: number;
  createdAt: number;
  /** When it last went out on a socket; null while no relay was ready. */
  sentAt: number | null;
  sends: number;
}

/** An answered request, kept a while by idempotency key for a caller that re-attaches. */
export interface SettledRequest {
  key: string;
  argsHash: string;
  outcome: CallOutcome;
  expiresAt: number;
  /**
   * For a request cancelled after it went out: the cancel, sent again when a relay says hello
   * before `cancelUntil` (the request's deadline), in case the relay was away when it was cancelled.
   */
  cancel?: CancelMessage;
  cancelUntil?: number;
}

/**
 * Keys remembered for a while, at most `max` of them (the oldest go first), in memory: cancels
 * that arrived before their call did, which only ever race by moments.
 */
export class RecentKeys {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  add(key: string, now = Date.now()): void {
    for (const [k, until] of this.until) if (until <= now || this.until.size >= this.max) this.until.delete(k);
    this.until.set(key, now + this.ttlMs);
  }

  /** Whether `key` was added less than the TTL ago; forgets it either way. */
  take(key: string, now = Date.now()): boolean {
    const until = this.until.get(key);
    this.until.delete(key);
    return until !== undefined && until > now;
  }
}

export function failure(code: CallError['code'], message: string, retryable: boolean): CallOutcome {
  return { ok: false, error: { code, message, retryable, origin: 'hub' } };
}

export function outcomeOf(msg: ResponseMessage): CallOutcome {
  return msg.ok
    ? { ok: true, result: msg.result, operations: msg.operations, dry_run: msg.dry_run, replayed: msg.replayed }
    : { ok: false, error: { code: msg.error.code, message: msg.error.message, retryable: msg.error.retryable, origin: 'relay' }, replayed: msg.replayed };
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/** "last seen …, closed with 1006" — why a relay is not there, for error messages. */
export function describeAbsence(meta: RelayMeta, lastSeenMs: number | null): string {
  if (!meta.connectedAt) return 'no relay has connected yet';
  const parts = [`last seen ${iso(lastSeenMs ?? meta.connectedAt)}`];
  if (meta.lastClose) parts.push(`closed with ${meta.lastClose.code}${meta.lastClose.reason ? ` (${meta.lastClose.reason})` : ''}`);
  return parts.join(', ');
}

/** The outcome of a request whose deadline passed without an answer. */
export function expired(p: PendingRequest, meta: RelayMeta, lastSeenMs: number | null, connected: boolean): CallOutcome {
  if (p.sentAt === null) {
    return failure('relay_not_connected', `relay for cluster "${p.cluster}" is not connected (${describeAbsence(meta, lastSeenMs)})`, true);
  }
  const where = connected ? 'the relay is connected but did not answer' : `the relay disconnected: ${describeAbsence(meta, lastSeenMs)}`;
  return failure('deadline_exceeded', `relay for cluster "${p.cluster}" did not answer ${p.request.action} before its deadline (${where})`, true);
}

/**
 * The capabilities `GET /clusters` declares. The protocol flags (`cancel`, `effect_key`) only steer
 * what the hub sends, so they stay out of the API's contract.
 */
function capabilitiesOf(hello: HelloMessage | null): RelayStatus['capabilities'] {
  if (!hello) return null;
  const { actions, dry_run, max_log_lines, signed_requests } = hello.capabilities;
  return { actions, dry_run, max_log_lines, signed_requests };
}

export function statusOf(meta: RelayMeta, live: { connected: boolean; lastSeenMs: number | null; pending: number }): RelayStatus {
  const { type: _h, ...health } = meta.health ?? { type: 'health' };
  return {
    connected: live.connected,
    connected_at: iso(meta.connectedAt),
    last_seen_at: iso(live.lastSeenMs),
    disconnected_at: live.connected ? null : iso(meta.disconnectedAt),
    last_close: meta.lastClose,
    relay_version: meta.hello?.relay_version ?? null,
    protocol: meta.hello?.protocol ?? null,
    allowlist: meta.hello?.allowlist ?? null,
    capabilities: capabilitiesOf(meta.hello),
    last_hello_at: iso(meta.helloAt),
    health: meta.health ? (health as RelayStatus['health']) : null,
    last_health_at: iso(meta.healthAt),
    api_server_reachable: meta.health ? meta.health.api_server.reachable : null,
    pending_requests: live.pending,
  };
}
