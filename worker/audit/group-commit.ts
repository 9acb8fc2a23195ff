/**
 * Group commit: requests that arrive while a commit is under way wait for the next one, which
 * takes all of them at once (up to a bound), so the cost of a commit (a storage transaction, a
 * D1 write) is paid once per batch rather than once per caller. Each caller still gets its own
 * result, and only once the batch holding its request has committed.
 */

interface Waiting<T, R> {
  key: string;
  items: T[];
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Commits the groups of one batch (all under the same key) together; resolves to one result per
 * group, in order, or throws having committed none of them.
 */
export type CommitGroups<T, R> = (key: string, groups: T[][]) => Promise<R[]>;

export class GroupCommit<T, R> {
  private queue: Waiting<T, R>[] = [];
  private draining = false;
  /** Settles after the last request submitted so far has (requests are committed in order). */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: CommitGroups<T, R>,
    /** Most items in one batch; a request larger than this is committed alone, whole. */
    private readonly maxItems: number,
    /** Waits before a batch is taken, to let requests already on their way join it. */
    private readonly gather: () => Promise<void> = () => Promise.resolve(),
  ) {}

  submit(key: string, items: T[]): Promise<R> {
    const result = new Promise<R>((resolve, reject) => this.queue.push({ key, items, resolve, reject }));
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    if (!this.draining) void this.drain();
    return result;
  }

  /** Resolves once every request submitted so far is committed (or has failed). */
  idle(): Promise<void> {
    return this.tail;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      // The flag drops in the same turn as the queue is seen empty, so no request is left behind.
      while (this.queue.length > 0) {
        await this.gather();
        await this.run(this.take());
      }
    } finally {
      this.draining = false;
    }
  }

  /** The oldest requests with the first one's key, as many as fit in one batch. */
  private take(): Waiting<T, R>[] {
    const first = this.queue[0]!;
    let n = 1;
    let size = first.items.length;
    for (; n < this.queue.length; n++) {
      const next = this.queue[n]!;
      if (next.key !== first.key || size + next.items.length > this.maxItems) break;
      size += next.items.length;
    }
    return this.queue.splice(0, n);
  }

  private async run(batch: Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.commit(batch[0]!.key, batch.map((w) => w.items));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // Nothing of the batch was committed: each request alone, so one bad request fails only its caller.
      for (const w of batch) await this.run([w]);
    }
  }
}
