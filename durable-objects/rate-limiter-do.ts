import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../worker/env';
import { RejectionTally } from '../worker/hooks/rejection-tally';
import { registerSecrets } from '../worker/observability/log';

export interface RateDecision {
  ok: boolean;
  /** The bucket size (requests that may arrive at once). */
  limit: number;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until the next request would be accepted (0 when accepted). */
  retry_after_s: number;
  /** Seconds until the bucket is full again. */
  reset_s: number;
}

/**
 * A token bucket for one subject (an API key or a signed-in person), as one small Durable Object
 * per subject: every isolate of every location asks the same object, so the limit holds
 * globally, and no tenant-wide object becomes a hot spot. The bucket lives in memory only: if the
 * object is evicted it starts full again, which errs on the side of serving.
 */
export class RateLimiterDO extends DurableObject<Env> {
  private tokens = -1;
  private updated = 0;
  private rejections = new RejectionTally();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    registerSecrets(env); // an object in a fresh isolate may log before any request registered them
  }

  take(perMinute: number, burst: number, now = Date.now()): RateDecision {
    const rate = perMinute / 60_000; // tokens per millisecond
    if (this.tokens < 0) this.tokens = burst;
    else this.tokens = Math.min(burst, this.tokens + (now - this.updated) * rate);
    this.updated = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, limit: burst, remaining: Math.floor(this.tokens), retry_after_s: 0, reset_s: Math.ceil((burst - this.tokens) / rate / 1000) };
    }
    const waitMs = (1 - this.tokens) / rate;
    return { ok: false, limit: burst, remaining: 0, retry_after_s: Math.max(1, Math.ceil(waitMs / 1000)), reset_s: Math.ceil((burst - this.tokens) / rate / 1000) };
  }

  /**
   * Counts one rejected webhook delivery of this subject (a tenant's source): whether it gets an
   * audit entry of its own, and how many before it did not. Kept in memory like the bucket: an
   * evicted object forgets its count and records the next rejection.
   */
  tallyRejection(now = Date.now()): { record: boolean; unrecorded: number } {
    return this.rejections.add(now);
  }
}
