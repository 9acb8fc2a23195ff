/** How often a source's rejected deliveries reach the audit log: one entry per window at most. */
export const REJECTION_WINDOW_MS = 60_000;

/**
 * Aggregates rejected webhook deliveries so that a flood of forged requests costs the tenant's
 * audit writer one entry a minute, not one per request. The first rejection of a window is
 * recorded and carries how many were counted, not recorded, since the previous recorded one.
 */
export class RejectionTally {
  private windowStart = -Infinity;
  private unrecorded = 0;

  /** Whether this rejection gets an entry of its own; if so, how many it stands for besides itself. */
  add(now: number, windowMs = REJECTION_WINDOW_MS): { record: boolean; unrecorded: number } {
    if (now - this.windowStart >= windowMs) {
      const unrecorded = this.unrecorded;
      this.windowStart = now;
      this.unrecorded = 0;
      return { record: true, unrecorded };
    }
    this.unrecorded += 1;
    return { record: false, unrecorded: this.unrecorded };
  }
}
