import { redact } from '../lib/redact';
import { ToolError } from '../tools/types';
import type { Vendor } from './types';

/**
 * The one error a live integration throws. It is a `ToolError`, so the invoker records it and
 * the engine retries it when `retryable`: rate limits, 5xx, network failures and timeouts are;
 * a 4xx is the vendor saying no, and asking again will not change its mind.
 */
export type IntegrationErrorCode =
  // retryable
  | 'rate_limited'
  | 'unavailable'
  | 'network'
  | 'timeout'
  // permanent
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'invalid'
  | 'conflict'
  | 'rejected'
  | 'unsupported'
  | 'bad_response'
  | 'deployment_failed'
  // Not retried: the deployment exists and its deployer has not answered in the wait (often none is
  // listening). A run's next attempt would find it by the step's mark rather than start another,
  // but waiting longer is the step's timeout's business, not a retry's.
  | 'deployment_pending';

const RETRYABLE = new Set<IntegrationErrorCode>(['rate_limited', 'unavailable', 'network', 'timeout']);

export const VENDOR_NAMES: Record<Vendor, string> = { github: 'GitHub', jira: 'Jira', pagerduty: 'PagerDuty' };

export class IntegrationError extends ToolError {
  readonly status?: number;
  /** How long the vendor asked us to wait (Retry-After or its rate-limit reset), when it said. */
  readonly retryAfterMs?: number;

  constructor(
    readonly vendor: Vendor,
    override readonly code: IntegrationErrorCode,
    message: string,
    options: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message, RETRYABLE.has(code), code);
    this.name = 'IntegrationError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The same error with another message (used to strip secrets on the way out). */
  withMessage(message: string): IntegrationError {
    return new IntegrationError(this.vendor, this.code, message, { status: this.status, retryAfterMs: this.retryAfterMs });
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function codeForStatus(status: number): IntegrationErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'unavailable';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 422) return 'invalid';
  return 'rejected';
}

/**
 * Builds the error for an HTTP failure: the vendor's own message, the operation, and the wait it
 * asked for. `code` overrides the status mapping (GitHub's rate limits answer 403).
 */
export function httpError(
  vendor: Vendor,
  status: number,
  vendorMessage: string,
  options: { operation?: string; retryAfterMs?: number; code?: IntegrationErrorCode } = {},
): IntegrationError {
  const code = options.code ?? codeForStatus(status);
  const op = options.operation ? ` to ${options.operation}` : '';
  const wait = options.retryAfterMs !== undefined ? ` (retry after ${Math.ceil(options.retryAfterMs / 1000)}s)` : '';
  const hint = code === 'unauthorized' ? ' — check the integration credentials' : '';
  return new IntegrationError(vendor, code, `${VENDOR_NAMES[vendor]} answered ${status}${op}: ${vendorMessage}${hint}${wait}`, {
    status,
    retryAfterMs: options.retryAfterMs,
  });
}

const isAbort = (err: unknown): boolean =>
  err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError' || err.name === 'CanceledError');

/** A request that got no HTTP answer: aborted by the step's deadline, or the network failed. */
export function transportError(vendor: Vendor, err: unknown, operation?: string): IntegrationError {
  const op = operation ? ` (${operation})` : '';
  if (isAbort(err)) return new IntegrationError(vendor, 'timeout', `${VENDOR_NAMES[vendor]} request aborted before it answered${op}`);
  // The useful part (ECONNREFUSED, ENOTFOUND…) is at the end of the cause chain: SDK error →
  // fetch's TypeError("fetch failed") → the socket error.
  let deepest: unknown = err;
  for (let depth = 0; depth < 5 && deepest instanceof Error && deepest.cause instanceof Error; depth++) deepest = deepest.cause;
  const detail = deepest instanceof Error ? deepest.message : String(deepest);
  return new IntegrationError(vendor, 'network', `Could not reach ${VENDOR_NAMES[vendor]}${op}: ${detail}`);
}

const MAX_MESSAGE = 400;

/**
 * The vendor's message from an error body: JSON fields as each vendor names them, or a short
 * text. HTML (a proxy's error page) says nothing useful and is replaced by the status text.
 */
export function vendorText(text: string | undefined, fallback: string): string {
  const trimmed = (text ?? '').trim();
  if (trimmed === '' || /^<(!doctype|html)/i.test(trimmed)) return fallback;
  return trimmed.length > MAX_MESSAGE ? `${trimmed.slice(0, MAX_MESSAGE)}…` : trimmed;
}

function base64(text: string): string | undefined {
  try {
    return btoa(text);
  } catch {
    return undefined; // not Latin-1: it cannot have been sent in a basic-auth header either
  }
}

/**
 * Removes credentials from text that leaves the integration: each secret as given, its base64
 * forms (a basic-auth header echoed back), then anything token-shaped (`redact`).
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of [secret, base64(secret), encodeURIComponent(secret)]) {
      if (form) out = out.split(form).join('[REDACTED]');
    }
  }
  return redact(out) as string;
}
