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
  /** Bumped by each change a person makes (cancel, review): a call that returns after one is not applied. */
  private fence = 0;
  /** Aborts the call in flight (the engine makes one at a time). */
  private inflight: AbortController | undefined;

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

  /**
   * Inside `run`: awaits a call without the lock, fenced. `interrupt()` meanwhile aborts it through
   * its signal, and a call that returns after an interruption throws `Superseded` (not applied).
   */
  async fenced<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const fence = this.fence;
    const controller = new AbortController();
    this.inflight = controller;
    let value: T;
    try {
      value = await this.outside(() => work(controller.signal));
    } catch (err) {
      if (this.fence !== fence) throw new Superseded();
      throw err;
    } finally {
      if (this.inflight === controller) this.inflight = undefined;
    }
    if (this.fence !== fence) throw new Superseded();
    return value;
  }

  /** A person changed the run: the call in flight is abandoned, and what it returns is not applied. */
  interrupt(): void {
    this.fence++;
    this.inflight?.abort();
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

/** The run was changed (cancelled) while a call was in flight: what the call returned is not applied. */
export class Superseded extends Error {
  constructor() {
    super('The run changed while a call was in flight');
    this.name = 'Superseded';
  }
}
