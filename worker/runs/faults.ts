/**
 * Poison-pill handling for a run's object: ticks that throw in a row are counted (in storage, so a
 * restart does not reset the count), retried with backoff, and after MAX_CONSECUTIVE_FAULTS the run
 * ends `failed` with `engine_error: …` instead of retrying for ever.
 */
import { outboxRetryMs } from './outbox';

/** A run whose ticks fail this many times in a row ends `failed` with `engine_error: …`. */
export const MAX_CONSECUTIVE_FAULTS = 5;
const KEY = 'faults';

interface Stored {
  count: number;
  last: string;
}

export class FaultCounter {
  /** The stored count as last read or written (undefined: not read yet). */
  private count: number | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Records a failed tick; returns how many failed in a row. */
  async failed(message: string): Promise<number> {
    const count = (await this.current()) + 1;
    await this.storage.put(KEY, { count, last: message } satisfies Stored);
    this.count = count;
    return count;
  }

  /** A tick succeeded: the count starts again (a storage write only when there was one). */
  async succeeded(): Promise<void> {
    if ((await this.current()) > 0) await this.storage.delete(KEY);
    this.count = 0;
  }

  private async current(): Promise<number> {
    this.count ??= (await this.storage.get<Stored>(KEY))?.count ?? 0;
    return this.count;
  }
}

/** How long to wait before the next tick after `count` faults in a row; undefined when the run must end. */
export function faultRetryMs(count: number): number | undefined {
  return count < MAX_CONSECUTIVE_FAULTS ? outboxRetryMs(count) : undefined;
}
