import { IntegrationError } from './errors';
import type { RetryPolicy } from './types';

/** Waits `ms`, or less if the signal aborts first (the caller then gives up). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff with half jitter, so callers throttled together do not come back together. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Runs a whole tool execution again while it fails with a retryable `IntegrationError`: every
 * execution is idempotent under its key, so repeating it cannot act twice. The vendor's
 * Retry-After wins over the backoff; one longer than the policy allows ends the call at once,
 * retryable, so the run engine schedules the retry instead of this call sleeping through it.
 */
export async function withRetries<T>(run: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof IntegrationError) || !err.retryable || attempt >= policy.attempts || signal?.aborted) throw err;
      const wait = err.retryAfterMs ?? backoffMs(policy, attempt);
      if (wait > policy.maxRetryAfterMs) throw err;
      await sleep(wait, signal);
      if (signal?.aborted) throw err;
    }
  }
}
