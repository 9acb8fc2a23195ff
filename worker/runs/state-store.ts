/**
 * How a run's state is laid out in its Durable Object's storage, so that a commit writes what
 * changed and no value grows with the number of steps or the size of their results:
 *
 *   `run`          the header: status, cursor, counters, the ordered step ids (small)
 *   `def`          the runbook and the policy the run was started with (written once)
 *   `world`        the simulated integrations' state (written when it changed)
 *   `step:<id>`    one per step (a large result is not in it: see results.ts)
 *
 * Runs stored by an earlier version kept everything in `run`; they load as they are and are
 * written in this layout by their next commit.
 */
import type { RunState, StepState } from './types';

/** The storage a run's object has (DurableObjectStorage, or a map in unit tests). */
export interface KeyValueStorage {
  get<T>(key: string): Promise<T | undefined>;
  get<T>(keys: string[]): Promise<Map<string, T>>;
  put(entries: Record<string, unknown>): Promise<void>;
}

type Header = Omit<RunState, 'steps' | 'spec' | 'policy' | 'world'> & { step_ids: string[] };
interface Definition {
  spec: RunState['spec'];
  policy: RunState['policy'];
}
/** A run as an earlier version stored it: the whole state in one value. */
type Legacy = RunState & { step_ids?: undefined };

export const RUN_KEY = 'run';
const DEF_KEY = 'def';
const WORLD_KEY = 'world';
const STEP_PREFIX = 'step:';
const stepKey = (id: string) => `${STEP_PREFIX}${id}`;
/** Storage reads take at most 128 keys at a time. */
const GET_BATCH = 128;

/**
 * What the store knows of the last write, so the next one writes only what changed: each step's
 * stored JSON is remembered and compared (a step is small: its large result is out of line).
 */
export class RunStore {
  private worldJson: string | undefined;
  private stepJson = new Map<string, string>();
  /** Set while the stored layout is the old one (or nothing is stored): the next save writes it all. */
  private whole = true;

  constructor(private readonly storage: KeyValueStorage) {}

  async load(): Promise<RunState | undefined> {
    this.reset();
    const stored = await this.storage.get<Header | Legacy>(RUN_KEY);
    if (!stored) return undefined;
    if (stored.step_ids === undefined) return stored as Legacy;
    const { step_ids: ids, ...header } = stored;
    const [def, world] = await Promise.all([this.storage.get<Definition>(DEF_KEY), this.storage.get<Record<string, unknown>>(WORLD_KEY)]);
    const steps: StepState[] = [];
    for (let i = 0; i < ids.length; i += GET_BATCH) {
      const chunk = ids.slice(i, i + GET_BATCH);
      const found = await this.storage.get<StepState>(chunk.map(stepKey));
      for (const id of chunk) {
        const step = found.get(stepKey(id));
        if (!step) throw new Error(`Run ${header.id}: step ${id} is missing from storage`);
        steps.push(step);
        this.stepJson.set(id, JSON.stringify(step));
      }
    }
    if (!def) throw new Error(`Run ${header.id}: its definition is missing from storage`);
    this.whole = false;
    this.worldJson = JSON.stringify(world ?? {});
    return { ...header, spec: def.spec, policy: def.policy, world: world ?? {}, steps } as RunState;
  }

  /**
   * The entries a commit writes: the header, the steps that changed since the last write, the
   * world when it changed (everything when the layout is new). The caller adds its events, writes
   * them atomically, then calls `saved()`.
   */
  entries(run: RunState): Record<string, unknown> {
    const { steps, spec, policy, world, ...rest } = run;
    const out: Record<string, unknown> = { [RUN_KEY]: { ...rest, step_ids: steps.map((s) => s.id) } satisfies Header };
    if (this.whole) out[DEF_KEY] = { spec, policy } satisfies Definition;
    const worldJson = JSON.stringify(world);
    if (this.whole || worldJson !== this.worldJson) out[WORLD_KEY] = world;
    for (const step of steps) {
      if (this.whole || JSON.stringify(step) !== this.stepJson.get(step.id)) out[stepKey(step.id)] = step;
    }
    return out;
  }

  /** Records that these entries (from `entries()`) were written. */
  saved(entries: Record<string, unknown>): void {
    this.whole = false;
    for (const [key, value] of Object.entries(entries)) {
      if (key === WORLD_KEY) this.worldJson = JSON.stringify(value);
      else if (key.startsWith(STEP_PREFIX)) this.stepJson.set(key.slice(STEP_PREFIX.length), JSON.stringify(value));
    }
  }

  /** Forgets what was written (after a failed write, or before a load): the next save writes everything. */
  reset(): void {
    this.whole = true;
    this.worldJson = undefined;
    this.stepJson.clear();
  }
}

/** A put takes at most 128 entries. */
const PUT_BATCH = 128;

/**
 * Writes any number of entries as one atomic write: the puts are issued without an await between
 * them, and the platform coalesces such writes into one transaction.
 */
export function putAll(storage: KeyValueStorage, entries: Record<string, unknown>): Promise<void> {
  const all = Object.entries(entries);
  if (all.length <= PUT_BATCH) return storage.put(entries);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < all.length; i += PUT_BATCH) writes.push(storage.put(Object.fromEntries(all.slice(i, i + PUT_BATCH))));
  return Promise.all(writes).then(() => undefined);
}

/** Reads a stored run, changes it and writes it back whole (tests and repairs; the object must be evicted after). */
export async function editStoredRun(storage: KeyValueStorage, edit: (run: RunState) => void | Promise<void>): Promise<void> {
  const store = new RunStore(storage);
  const run = await store.load();
  if (!run) throw new Error('No run is stored in this object');
  await edit(run);
  store.reset();
  await putAll(storage, store.entries(run));
}
