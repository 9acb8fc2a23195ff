/**
 * The run's lock: one change to a run at a time (alarms, approvals, cancels), and a way to step
 * out of it for the duration of a call. Decisions are taken holding the lock; calls to the world
 * (tools, models, the relay) are awaited without it, so a cancel or an approval never waits
 * behind a call, and the holder re-enters (in turn, behind whatever came meanwhile) to apply
 * what the call returned.
 */
export class RunLock {
  private tail: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  /** Runs `fn` holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }

  /** Inside `run`: awaits `work` without the lock, then waits for the lock again. */
  async outside<T>(work: () => Promise<T>): Promise<T> {
    this.unlock();
    try {
      return await work();
    } finally {
      await this.acquire();
    }
  }

  private async acquire(): Promise<void> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.release = release;
  }

  private unlock(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
