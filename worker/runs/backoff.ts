/** Retry timing, shared by step retries and compensation retries. */

/** No wait between attempts is longer than this. */
export const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The wait before attempt `attempt + 1`: `base` doubled per attempt made, capped, and never less
 * than what the vendor asked for (Retry-After).
 */
export function backoffMs(base: number, attempt: number, retryAfterMs = 0, cap = MAX_BACKOFF_MS): number {
  return Math.max(Math.min(base * 2 ** Math.max(0, attempt - 1), cap), retryAfterMs);
}

/**
 * An attempt is not started with less time than this before the step's deadline: it could only
 * time out (its own timer racing the integration's answer), hiding why the last one failed.
 */
export const MIN_ATTEMPT_MS = 100;

/** Whether another attempt may start at `next`: attempts left, and time for it before the deadline (if any). */
export function mayRetry(retryable: boolean, attempts: number, maxAttempts: number, next: number, deadline: number | undefined): boolean {
  return retryable && attempts < maxAttempts && (deadline === undefined || next + MIN_ATTEMPT_MS <= deadline);
}
