import { hmacHex, sha256Hex, timingSafeEqual } from '../lib/crypto';

/** How far a generic webhook's timestamp may be from now (replay window). */
export const GENERIC_WINDOW_S = 300;

/**
 * A delivery's verdict. A refusal with `field` came from a sender that proved who it is but sent a
 * malformed request (a 400 naming the field); one without is a failed authentication (a 401).
 *
 * `dedupeKey` is derived only from what the signature covers, so whoever replays a captured
 * delivery cannot make it look new; `deliveryId` is the sender's own id for the delivery (shown,
 * and also de-duplicated, since an honest sender retries under the same id).
 */
export type Verdict = { ok: true; deliveryId: string; dedupeKey: string; eventType?: string } | { ok: false; reason: string; field?: string };

type Headers = { get(name: string): string | null };

async function anyHmacMatches(secrets: string[], message: string, candidates: string[]): Promise<boolean> {
  let matched = false;
  // Every secret against every candidate, without stopping early: the time taken does not say which one matched.
  for (const secret of secrets) {
    const expected = await hmacHex(secret, message);
    for (const candidate of candidates) if (timingSafeEqual(expected, candidate.toLowerCase())) matched = true;
  }
  return matched;
}

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; the delivery id is
 * `X-GitHub-Delivery`, the event `X-GitHub-Event`. Neither header is signed, and GitHub signs no
 * timestamp: a delivery is the same delivery as long as its body is, for ever.
 */
export async function verifyGitHub(headers: Headers, body: string, secrets: string[]): Promise<Verdict> {
  const header = headers.get('x-hub-signature-256');
  if (!header) return { ok: false, reason: 'missing X-Hub-Signature-256' };
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return { ok: false, reason: 'malformed X-Hub-Signature-256' };
  if (!(await anyHmacMatches(secrets, body, [m[1]!]))) return { ok: false, reason: 'signature does not match' };
  const delivery = headers.get('x-github-delivery');
  if (!delivery) return { ok: false, reason: 'missing X-GitHub-Delivery', field: 'headers.x-github-delivery' };
  return { ok: true, deliveryId: delivery, dedupeKey: `sha256:${await sha256Hex(body)}`, eventType: headers.get('x-github-event') ?? undefined };
}

/**
 * PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>,v1=<hex>` — several while PagerDuty rotates its
 * secret; any one valid signature suffices. The delivery id is the event's `id`.
 */
export async function verifyPagerDuty(headers: Headers, body: string, secrets: string[]): Promise<Verdict> {
  const header = headers.get('x-pagerduty-signature');
  if (!header) return { ok: false, reason: 'missing X-PagerDuty-Signature' };
  const candidates = header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3))
    .filter((s) => /^[0-9a-fA-F]{64}$/.test(s));
  if (candidates.length === 0) return { ok: false, reason: 'malformed X-PagerDuty-Signature (no v1= signature)' };
  if (!(await anyHmacMatches(secrets, body, candidates))) return { ok: false, reason: 'signature does not match' };
  let event: { event?: { id?: unknown; event_type?: unknown } };
  try {
    event = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON', field: '(body)' };
  }
  const id = event.event?.id;
  if (typeof id !== 'string' || !id) return { ok: false, reason: 'event.id is missing', field: 'event.id' };
  // The event id is inside the signed body.
  return { ok: true, deliveryId: id, dedupeKey: id, eventType: typeof event.event?.event_type === 'string' ? event.event.event_type : undefined };
}

/**
 * Alertmanager: `Authorization: Bearer <token>` (its `http_config.authorization`). Alertmanager
 * sends no delivery id; a retried notification repeats the same body, so the body's hash is the id.
 */
export async function verifyAlertmanager(headers: Headers, body: string, secrets: string[]): Promise<Verdict> {
  const header = headers.get('authorization');
  if (!header) return { ok: false, reason: 'missing Authorization' };
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m) return { ok: false, reason: 'Authorization must be "Bearer <token>"' };
  const given = await sha256Hex(m[1]!);
  let matched = false;
  for (const secret of secrets) if (timingSafeEqual(await sha256Hex(secret), given)) matched = true;
  if (!matched) return { ok: false, reason: 'token does not match' };
  let status: string | undefined;
  try {
    const parsed = JSON.parse(body) as { status?: unknown };
    status = typeof parsed.status === 'string' ? parsed.status : undefined;
  } catch {
    return { ok: false, reason: 'body is not JSON', field: '(body)' };
  }
  const digest = `sha256:${await sha256Hex(body)}`;
  return { ok: true, deliveryId: digest, dedupeKey: digest, eventType: status };
}

/**
 * Generic: `X-AgentRunbook-Timestamp: <unix seconds>` and `X-AgentRunbook-Signature: v1=<hex
 * HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, within 5 minutes of now. A delivery is its
 * signed timestamp and body: a replay inside the window is a duplicate, one after it is refused.
 * The sender's `X-AgentRunbook-Delivery` (unsigned) names it, and a retry re-signed under the
 * same id is a duplicate too.
 */
export async function verifyGeneric(headers: Headers, body: string, secrets: string[], now = Date.now()): Promise<Verdict> {
  const ts = headers.get('x-agentrunbook-timestamp');
  const sig = headers.get('x-agentrunbook-signature');
  if (!ts || !sig) return { ok: false, reason: 'missing X-AgentRunbook-Timestamp or X-AgentRunbook-Signature' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'malformed X-AgentRunbook-Timestamp' };
  if (Math.abs(now / 1000 - Number(ts)) > GENERIC_WINDOW_S) return { ok: false, reason: `timestamp is more than ${GENERIC_WINDOW_S / 60} minutes from now` };
  const candidates = sig
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3));
  if (candidates.length === 0) return { ok: false, reason: 'malformed X-AgentRunbook-Signature' };
  if (!(await anyHmacMatches(secrets, `${ts}.${body}`, candidates))) return { ok: false, reason: 'signature does not match' };
  const delivery = headers.get('x-agentrunbook-delivery');
  if (delivery !== null && !/^[\w.:-]{1,200}$/.test(delivery)) return { ok: false, reason: 'malformed X-AgentRunbook-Delivery', field: 'headers.x-agentrunbook-delivery' };
  const dedupeKey = `sha256:${await sha256Hex(`${ts}.${body}`)}`;
  return { ok: true, deliveryId: delivery ?? dedupeKey, dedupeKey, eventType: headers.get('x-agentrunbook-event') ?? undefined };
}

export const VERIFIERS = { github: verifyGitHub, pagerduty: verifyPagerDuty, alertmanager: verifyAlertmanager, generic: verifyGeneric } as const;
export type HookSource = keyof typeof VERIFIERS;
