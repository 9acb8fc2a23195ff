import { api } from '@pagerduty/pdjs';
import { IntegrationError, httpError, parseRetryAfter, transportError, vendorText } from './errors';
import type { IntegrationSettings, PagerDutyCredentials } from './types';

export const PAGERDUTY_API = 'https://api.pagerduty.com';

type Query = Record<string, string | string[]>;

/** One REST call: the parsed JSON answer of a 2xx, or a `PagerDutyHttpError`. */
export type PagerDutyRequest = (method: 'GET' | 'PUT' | 'POST', path: string, options?: { query?: Query; data?: object }) => Promise<unknown>;

/** An HTTP answer other than 2xx, as pdjs resolves it (it does not reject on status). */
export class PagerDutyHttpError extends Error {
  constructor(
    readonly status: number,
    readonly data: unknown,
    readonly headers: Headers,
    readonly operation: string,
  ) {
    super(`PagerDuty answered ${status}`);
    this.name = 'PagerDutyHttpError';
  }
}

interface PdjsResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  data?: unknown;
}

const isResponse = (value: unknown): value is PdjsResponse =>
  !!value && typeof value === 'object' && typeof (value as PdjsResponse).status === 'number' && 'headers' in value;

/**
 * A request function over pdjs `api()` for one call. Writes send `From` (the PagerDuty user the
 * change is made as; PagerDuty refuses incident writes without it). The full `url` form is used
 * because pdjs's `server` option assumes https, and a base URL may be a proxy or a test's fake.
 */
export function pagerdutyClient(settings: IntegrationSettings<PagerDutyCredentials>, retryDelayMs: number, signal?: AbortSignal): PagerDutyRequest {
  const base = (settings.base_url ?? PAGERDUTY_API).replace(/\/+$/, '');
  const { token, from_email } = settings.credentials;
  return async (method, path, options = {}) => {
    const operation = `${method} ${path}`;
    let response: PdjsResponse;
    try {
      response = (await api({
        url: `${base}${path}`,
        method,
        token,
        data: options.data,
        queryParameters: options.query,
        headers: method === 'GET' ? {} : { From: from_email },
        signal,
        // pdjs's own "timeout" is a timer that does nothing but keep the event loop alive.
        requestTimeout: 0,
        // pdjs retries a 429 three times by itself, this many ms apart, ignoring Retry-After.
        retryTimeout: retryDelayMs,
      })) as unknown as PdjsResponse;
    } catch (err) {
      // pdjs rejects with the response itself when its body is not JSON (a proxy's error page).
      if (isResponse(err)) throw new PagerDutyHttpError(err.status, undefined, err.headers, operation);
      throw transportError('pagerduty', err, operation);
    }
    if (!response.ok) throw new PagerDutyHttpError(response.status, response.data, response.headers, operation);
    return response.data;
  };
}

/** PagerDuty's error body: `{ error: { message, code, errors: [...] } }`. */
export function pagerdutyMessage(data: unknown, fallback: string): string {
  const error = (data as { error?: { message?: unknown; errors?: unknown } } | undefined)?.error;
  if (!error) return typeof data === 'string' ? vendorText(data, fallback) : fallback;
  const head = typeof error.message === 'string' ? error.message : fallback;
  const details = Array.isArray(error.errors) ? error.errors.map(String) : [];
  return vendorText(details.length ? `${head}: ${details.join('; ')}` : head, fallback);
}

export function classifyPagerDutyError(err: unknown, now = Date.now()): IntegrationError {
  if (err instanceof IntegrationError) return err;
  if (!(err instanceof PagerDutyHttpError)) return transportError('pagerduty', err);
  // PagerDuty's rate limit answers carry `ratelimit-reset` (seconds) more often than Retry-After.
  const retryAfterMs = parseRetryAfter(err.headers.get('retry-after') ?? err.headers.get('ratelimit-reset'), now);
  return httpError('pagerduty', err.status, pagerdutyMessage(err.data, `HTTP ${err.status}`), {
    operation: err.operation,
    retryAfterMs: err.status === 429 || err.status >= 500 ? retryAfterMs : undefined,
  });
}
