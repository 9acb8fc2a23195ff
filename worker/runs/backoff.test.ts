import { describe, expect, it } from 'vitest';
import { backoffMs, MAX_BACKOFF_MS, MIN_ATTEMPT_MS, mayRetry } from './backoff';

describe('backoff', () => {
  it('doubles per attempt from the base, capped', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(1000, a))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(60_000, 20)).toBe(MAX_BACKOFF_MS);
    expect(backoffMs(1000, 5, 0, 5000)).toBe(5000);
  });

  it("never waits less than the vendor's Retry-After", () => {
    expect(backoffMs(1000, 1, 30_000)).toBe(30_000);
  });

  it('retries only what is retryable, while attempts remain, before the deadline', () => {
    expect(mayRetry(true, 1, 3, 100, undefined)).toBe(true);
    expect(mayRetry(false, 1, 3, 100, undefined)).toBe(false);
    expect(mayRetry(true, 3, 3, 100, undefined)).toBe(false);
    expect(mayRetry(true, 1, 3, 100, 100)).toBe(false);
    // Not with less than MIN_ATTEMPT_MS left: that attempt could only time out.
    expect(mayRetry(true, 1, 3, 100, 100 + MIN_ATTEMPT_MS - 1)).toBe(false);
    expect(mayRetry(true, 1, 3, 100, 100 + MIN_ATTEMPT_MS)).toBe(true);
  });
});
