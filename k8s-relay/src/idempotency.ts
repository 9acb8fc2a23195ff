import { createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import type { Progress } from './actions/context';
import type { Logger } from './log';
import { canonicalJson } from '../contract/protocol';
import type { ResponseMessage } from '../contract/protocol';

/** A remembered answer: the response without the per-delivery fields. */
export type Outcome = ResponseMessage extends infer R ? (R extends unknown ? Omit<R, 'type' | 'id' | 'idempotency_key' | 'replayed'> : never) : never;

interface Entry {
  key: string;
  /** Hash of action, args and dry_run: the same key with other arguments is a conflict, not a replay. */
  fingerprint: string;
  outcome?: Outcome;
  /** An action's resumable progress (drain's evictions), kept until the outcome replaces it. */
  progress?: unknown;
  expiresAt: number;
  /** Executing in this process right now; never evicted from the cache. Not persisted. */
  active?: boolean;
}

interface StoredFile {
  version: 1;
  entries: Omit<Entry, 'active'>[];
}

export interface StoreOptions {
  maxEntries: number;
  ttlMs: number;
  /** JSON file the cache is mirrored to, so a restarted relay neither repeats nor forgets; null keeps it in memory. */
  file: string | null;
  log: Logger;
  now?: () => number;
}

export function fingerprint(action: string, args: unknown, dryRun: boolean): string {
  return createHash('sha256').update(canonicalJson({ action, args, dry_run: dryRun })).digest('hex');
}

/**
 * Results of mutating requests by idempotency key: a bounded LRU (Map order) with a TTL,
 * optionally persisted. Only writes are remembered; a re-delivered read simply reads again.
 */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private writing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  private constructor(private readonly opts: StoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Opens the store, loading the file when there is one; an unreadable file starts empty (logged). */
  static async open(opts: StoreOptions): Promise<IdempotencyStore> {
    const store = new IdempotencyStore(opts);
    if (opts.file) await store.load(opts.file);
    return store;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live entry for a key, refreshed as most recently used; expired entries are dropped. */
  lookup(key: string): Readonly<Entry> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Marks a key as executing, creating its entry or resuming the one a crashed run left. */
  begin(key: string, fp: string): void {
    const entry = this.entries.get(key) ?? { key, fingerprint: fp, expiresAt: 0 };
    entry.active = true;
    entry.expiresAt = this.now() + this.opts.ttlMs;
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict();
  }

  progress(key: string): Progress {
    return {
      get: <T>() => this.entries.get(key)?.progress as T | undefined,
      set: async (value: unknown) => {
        const entry = this.entries.get(key);
        if (!entry) return;
        entry.progress = value;
        await this.persist();
      },
    };
  }

  /** Remembers the outcome (and drops the progress it supersedes). */
  async finish(key: string, outcome: Outcome): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.outcome = outcome;
    entry.progress = undefined;
    entry.active = false;
    entry.expiresAt = this.now() + this.opts.ttlMs;
    await this.persist();
  }

  /** Ends an execution whose outcome is not remembered (a retryable failure); its progress stays for a retry. */
  async abandon(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.active = false;
    if (entry.progress === undefined) this.entries.delete(key);
    await this.persist();
  }

  /** Waits for pending writes (before exit). */
  flush(): Promise<void> {
    return this.writing;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.opts.maxEntries) return;
      if (!entry.active) this.entries.delete(key);
    }
  }

  private async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log.error('cannot read the idempotency file', { file, error: String(err) });
      return;
    }
    try {
      const data = JSON.parse(text) as StoredFile;
      if (data.version !== 1 || !Array.isArray(data.entries)) throw new Error('unknown format');
      const now = this.now();
      for (const e of data.entries) if (e.expiresAt > now && typeof e.key === 'string') this.entries.set(e.key, { ...e });
      this.evict();
      this.opts.log.info('idempotency cache loaded', { file, entries: this.entries.size });
    } catch (err) {
      this.opts.log.error('idempotency file is corrupt; starting empty', { file, error: String(err) });
    }
  }

  /** Serialised full rewrites (temp file, fsync, rename): a crash leaves the old or the new file, never half of one. */
  private persist(): Promise<void> {
    const file = this.opts.file;
    if (!file) return Promise.resolve();
    const run = this.writing.then(async () => {
      const data: StoredFile = { version: 1, entries: [...this.entries.values()].map(({ active: _, ...e }) => e) };
      const tmp = `${file}.tmp`;
      try {
        const fh = await open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(JSON.stringify(data));
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, file);
      } catch (err) {
        // The cache still works in memory; a lost write only weakens the restart guarantee.
        this.opts.log.error('cannot write the idempotency file', { file, error: String(err) });
      }
    });
    this.writing = run;
    return run;
  }
}
