/**
 * The wire protocol between the hub (the Worker's per-cluster Durable Object) and a k8s-relay,
 * spoken as JSON text frames over the WebSocket the relay opens to
 * `GET /api/v1/clusters/{name}/connect` with `Authorization: Bearer <cluster token>`.
 *
 * Both sides import this module, so it holds only zod schemas, types and WebCrypto (present in
 * workerd and in Node as `globalThis.crypto`): no Node imports.
 *
 * Flow: the relay sends `hello` once per connection, then `health` periodically and whenever its
 * readiness changes; the hub sends `request`s (signed, see `signRequest`) and the relay answers
 * each with exactly one `response` carrying the same `id`. Either side may send `ping`; the other
 * answers `pong`. After a reconnect the hub re-sends every request still unanswered: the relay
 * either attaches to the execution already running or replays the remembered result, so a
 * mutating action never runs twice for one idempotency key. When the caller gives up, the hub
 * sends a signed `cancel` naming the request; the relay aborts that execution and answers it
 * `cancelled` (the hub no longer waits for that answer).
 *
 * Compatibility: additions since protocol 1 are optional fields, advertised in `hello`'s
 * `capabilities`, so the version stays 1 and either side may be older. The hub sends `cancel` and
 * a request's `effect_key` only to a relay whose hello says it understands them; a relay reads a
 * hello-less hub (or an older one) the same way it always did.
 */
import { z } from 'zod';

/** Bumped on any incompatible change; the relay sends it in `hello` and in the upgrade request. */
export const PROTOCOL_VERSION = 1;

/** Upgrade-request header with the relay's protocol version, so the hub can refuse before accepting. */
export const PROTOCOL_HEADER = 'x-agentrunbook-relay-protocol';

/** The path the relay dials, relative to the hub's origin. */
export function connectPath(cluster: string): string {
  return `/api/v1/clusters/${encodeURIComponent(cluster)}/connect`;
}

/** The k8s tool ids of the catalog (worker/tools/k8s*.ts); a test keeps the two lists equal. */
export const K8S_ACTIONS = [
  'k8s.get_node',
  'k8s.cordon_node',
  'k8s.uncordon_node',
  'k8s.drain_node',
  'k8s.get_deployment',
  'k8s.restart_deployment',
  'k8s.scale_deployment',
  'k8s.rollback_deployment',
  'k8s.get_pod_logs',
] as const;
export type K8sAction = (typeof K8S_ACTIONS)[number];

export function isK8sAction(action: string): action is K8sAction {
  return (K8S_ACTIONS as readonly string[]).includes(action);
}

/**
 * WebSocket close codes. The hub closes with `unauthorized` for a revoked token, `replaced`
 * when a newer connection for the same cluster arrived, `unsupported_protocol` for a version it
 * cannot speak; the relay reconnects with backoff in every case (a token may be rotated).
 */
export const CLOSE_CODES = {
  going_away: 1001,
  protocol_error: 4400,
  unauthorized: 4401,
  replaced: 4409,
  unsupported_protocol: 4426,
} as const;

/**
 * Error codes of a failed `response`. `retryable` on the error says whether a new attempt (a
 * new idempotency key) may succeed; the hub maps these onto its ToolError.
 */
export const ERROR_CODES = [
  'invalid_request', // the message did not parse as a request
  'unauthenticated', // missing or wrong signature
  'unknown_action', // not a k8s tool id this relay implements
  'action_not_allowed', // outside the relay's ALLOWED_ACTIONS
  'namespace_not_allowed', // outside the relay's ALLOWED_NAMESPACES
  'invalid_args', // the tool's argument schema refused the args (details: issues)
  'cluster_mismatch', // args.cluster is not the cluster this relay serves
  'deadline_exceeded', // deadline_ms passed before or during execution
  'cancelled', // the hub cancelled the request (the caller gave up); what was done so far is in details
  'idempotency_conflict', // the key was used before for a different action or args
  'busy', // too many requests in flight
  'not_found', // the Kubernetes object does not exist
  'conflict', // the API server reported a conflicting change
  'precondition_failed', // the cluster is not in a state the action accepts (e.g. a paused deployment)
  'pdb_blocked', // evictions refused by PodDisruptionBudgets until the deadline
  'forbidden', // the relay's ServiceAccount lacks the RBAC permission
  'rejected', // the API server refused the change as invalid
  'api_unavailable', // the API server is unreachable, overloaded or failing
  'internal', // a bug in the relay
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const relayErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
  details: z.unknown().optional(),
});
export type RelayErrorBody = z.infer<typeof relayErrorSchema>;

const messageId = z.string().min(1).max(128);
const idempotencyKey = z.string().min(1).max(256);

/** One write the relay performed (or, for a dry run, would perform); same shape as a tool's dry-run operations. */
export const operationSchema = z.object({ method: z.string(), target: z.string(), description: z.string() });
export type Operation = z.infer<typeof operationSchema>;

// relay → hub

export const helloMessage = z.object({
  type: z.literal('hello'),
  protocol: z.number().int().positive(),
  relay_version: z.string(),
  cluster: z.string(),
  /** What the relay's local configuration allows; `'*'` means every namespace. */
  allowlist: z.object({
    namespaces: z.union([z.literal('*'), z.array(z.string())]),
    actions: z.array(z.string()),
  }),
  capabilities: z.object({
    /** Actions this relay build implements (the allowlist may narrow them). */
    actions: z.array(z.string()),
    dry_run: z.boolean(),
    max_log_lines: z.number().int().positive(),
    /** Requests must carry an HMAC signature (always true in protocol 1). */
    signed_requests: z.boolean(),
    /** Understands `cancel` messages; absent from relays older than it. */
    cancel: z.boolean().optional(),
    /** Reads a request's `effect_key` (and verifies it in the signature); absent from relays older than it. */
    effect_key: z.boolean().optional(),
  }),
});

export const healthMessage = z.object({
  type: z.literal('health'),
  /** Connected to the hub and the API server answered its last probe. */
  ready: z.boolean(),
  api_server: z.object({
    reachable: z.boolean(),
    /** ISO time of the last probe; null before the first one. */
    checked_at: z.string().nullable(),
    latency_ms: z.number().nonnegative().nullable(),
    /** The Kubernetes version (`gitVersion`) the API server reported. */
    version: z.string().nullable(),
    error: z.string().nullable(),
  }),
  in_flight: z.number().int().nonnegative(),
  uptime_s: z.number().int().nonnegative(),
});

const responseBase = { type: z.literal('response'), id: messageId, idempotency_key: idempotencyKey };

export const responseMessage = z.discriminatedUnion('ok', [
  z.object({
    ...responseBase,
    ok: z.literal(true),
    /** The tool's result; it parses with the tool's result schema (for a dry run: the would-be result). */
    result: z.unknown(),
    /** The writes performed, or for a dry run validated with the API server's `dryRun=All` and not persisted. */
    operations: z.array(operationSchema),
    dry_run: z.boolean(),
    /** True when the result was remembered from an earlier delivery of the same idempotency key. */
    replayed: z.boolean(),
  }),
  z.object({ ...responseBase, ok: z.literal(false), error: relayErrorSchema, replayed: z.boolean() }),
]);

export const pingMessage = z.object({ type: z.literal('ping') });
export const pongMessage = z.object({ type: z.literal('pong') });

/**
 * Pings are this exact text so the hub can answer them without waking its Durable Object
 * (`state.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))`).
 */
export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';

export const relayMessage = z.discriminatedUnion('type', [helloMessage, healthMessage, responseMessage, pingMessage, pongMessage]);

// hub → relay

export const requestMessage = z.object({
  type: z.literal('request'),
  /** Correlates the response; unique per delivery is fine, the idempotency key is what dedupes. */
  id: messageId,
  /** Same key on a re-delivery of the same attempt (the run engine's `runId:stepId:attempt`). */
  idempotency_key: idempotencyKey,
  /**
   * The same for every attempt of one step (`runId:stepId`): what an action marks its effect with in
   * the cluster, so a later attempt after an ambiguous failure finds it done (a restart's pod-template
   * annotation). Absent, the idempotency key is the mark. Sent only to relays advertising `effect_key`.
   */
  effect_key: idempotencyKey.optional(),
  /** A k8s tool id; a string rather than an enum so an unknown one gets a proper `unknown_action` answer. */
  action: z.string().min(1).max(64),
  /** The tool's arguments, validated by the relay with the tool's own schema. */
  args: z.record(z.string(), z.unknown()),
  /** Validate and report the operations without changing the cluster. */
  dry_run: z.boolean().optional(),
  /** Absolute deadline, Unix epoch milliseconds: the relay refuses or abandons the request after it. */
  deadline_ms: z.number().int().positive(),
  /** Lowercase hex HMAC-SHA256 of `signingPayload(...)` with the key from `deriveSigningKey(token)`. */
  signature: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex HMAC-SHA256'),
});

/**
 * The caller gave up on request `id`: abort its execution and answer it `cancelled`. A cancel for a
 * request that is not executing (unknown, finished, or for another delivery) changes nothing.
 * Signed like a request, so no one but the hub can stop the relay's work.
 */
export const cancelMessage = z.object({
  type: z.literal('cancel'),
  id: messageId,
  idempotency_key: idempotencyKey,
  signature: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex HMAC-SHA256'),
});

export const hubMessage = z.discriminatedUnion('type', [requestMessage, cancelMessage, pingMessage, pongMessage]);

export type HelloMessage = z.infer<typeof helloMessage>;
export type HealthMessage = z.infer<typeof healthMessage>;
export type ResponseMessage = z.infer<typeof responseMessage>;
export type RelayMessage = z.infer<typeof relayMessage>;
export type RequestMessage = z.infer<typeof requestMessage>;
export type UnsignedRequest = Omit<RequestMessage, 'signature'>;
export type CancelMessage = z.infer<typeof cancelMessage>;
export type UnsignedCancel = Omit<CancelMessage, 'signature'>;
export type HubMessage = z.infer<typeof hubMessage>;

// Request signing. The token authenticates the connection; the signature makes every request
// verifiable on its own, so a request the hub did not make (an injected frame, a hub-side bug
// that mixes clusters) is refused. The key is derived from the token with a one-way function,
// so the hub can keep the derived key (encrypted) while storing the token only as a hash.

const encoder = new TextEncoder();
const SIGNING_CONTEXT = 'agentrunbook/k8s-relay/request-signing/v1';

function toHex(buf: ArrayBuffer): string {
  let out = '';
  for (const b of new Uint8Array(buf)) out += b.toString(16).padStart(2, '0');
  return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

async function hmac(key: Uint8Array, message: string): Promise<ArrayBuffer> {
  // A copy typed over a plain ArrayBuffer, whatever lib the caller compiles with.
  const k = await crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(message));
}

/** The request-signing key for a cluster token: HMAC-SHA256(token, context), lowercase hex. */
export async function deriveSigningKey(clusterToken: string): Promise<string> {
  return toHex(await hmac(encoder.encode(clusterToken), SIGNING_CONTEXT));
}

/**
 * JSON with object keys sorted and undefined members dropped. Defined here rather than shared
 * with the Worker because it is part of the signed wire format and must not change with it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The exact text that is signed: a JSON array, so no field can bleed into the next. An `effect_key`
 * is appended only when present, so a request without one signs as it always did (an older relay
 * verifies it); one with it goes only to relays that verify it.
 */
export function signingPayload(cluster: string, r: UnsignedRequest): string {
  const fields = ['v1', cluster, r.id, r.idempotency_key, r.action, r.dry_run === true, r.deadline_ms, r.args];
  return canonicalJson(r.effect_key === undefined ? fields : [...fields, r.effect_key]);
}

/** A cancel's signed text; its own tag, so a request's signature can never pass for a cancel's. */
export function cancelSigningPayload(cluster: string, c: UnsignedCancel): string {
  return canonicalJson(['v1-cancel', cluster, c.id, c.idempotency_key]);
}

async function sign(signingKey: string, payload: string): Promise<string> {
  return toHex(await hmac(fromHex(signingKey), payload));
}

async function verify(signingKey: string, signature: string, payload: string): Promise<boolean> {
  const k = await crypto.subtle.importKey('raw', fromHex(signingKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  return crypto.subtle.verify('HMAC', k, fromHex(signature), encoder.encode(payload));
}

/** Signs a request for `cluster` with the hex key from `deriveSigningKey`. */
export async function signRequest(signingKey: string, cluster: string, r: UnsignedRequest): Promise<RequestMessage> {
  return { ...r, signature: await sign(signingKey, signingPayload(cluster, r)) };
}

/** Checks a request's signature in constant time (WebCrypto's verify). */
export function verifyRequest(signingKey: string, cluster: string, r: RequestMessage): Promise<boolean> {
  return verify(signingKey, r.signature, signingPayload(cluster, r));
}

export async function signCancel(signingKey: string, cluster: string, c: UnsignedCancel): Promise<CancelMessage> {
  return { ...c, signature: await sign(signingKey, cancelSigningPayload(cluster, c)) };
}

export function verifyCancel(signingKey: string, cluster: string, c: CancelMessage): Promise<boolean> {
  return verify(signingKey, c.signature, cancelSigningPayload(cluster, c));
}
