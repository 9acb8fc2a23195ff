/**
 * The run's outbox: what its events say reaches D1 (the listing mirror and the ledger's
 * `tool_calls`) and the tenant's audit log, whatever fails when. Events are persisted in the run's
 * object with the state they describe; each destination keeps its own cursor (the last event it
 * has), stored beside them, and a delivery that fails is retried (the object arms its alarm) until
 * both cursors reach the last event — a finished or waiting run included. Deliveries run outside
 * the run's lock: a run never waits on D1 or the audit log to change state.
 */
import type { AuditInput } from '../audit/chain';
import { makeDb, type DB } from '../db/client';
import { toolCalls } from '../db/schema';
import type { Env } from '../env';
import { recordFinalScore } from '../shadow/store';
import { auditEntry } from './audit-entry';
import type { LedgerRow } from './invoke';
import { mirrorStatements } from './mirror';
import { recordRunSpan } from './run-trace';
import { TERMINAL_RUN, runView, type RunEvent, type RunState } from './types';

export const EVENT_PREFIX = 'ev:';
export const LEDGER_PREFIX = 'ledger:';
/** Marks ledger rows not yet copied to D1, so a delivery reads only those, not the whole ledger. */
export const UNMIRRORED_PREFIX = 'ledger-unmirrored:';
export const OUTBOX_KEY = 'outbox';
export const eventKey = (seq: number) => `${EVENT_PREFIX}${String(seq).padStart(10, '0')}`;

/** The destinations' cursors, persisted under `outbox`. */
export interface OutboxCursors {
  /** Last event whose steps and run summary are in D1. */
  mirrored_seq: number;
  /** Last event in the tenant's audit log. */
  audited_seq: number;
  /** The last event of a commit that changed every step (planning, the end): those steps are copied whole. */
  mirror_all_upto: number;
  /** The run's root span was handed to the exporter (at most once, by choice). */
  root_span_recorded?: boolean;
}

/** Storage reads and deletes take at most 128 keys at a time; the audit log takes this many entries per call. */
const KEYS_PER_OP = 128;
const EVENTS_PER_DELIVERY = 500;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

/** When a delivery that failed `failures` times in a row is tried again. */
export function outboxRetryMs(failures: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
}

/** The cursors of a run stored before the outbox had its own (its audit cursor lived in the state). */
export function initialCursors(run: Pick<RunState, 'seq'> & { audited_seq?: number }): OutboxCursors {
  return { mirrored_seq: 0, audited_seq: run.audited_seq ?? 0, mirror_all_upto: run.seq };
}

export class Outbox {
  private inFlight: Promise<void> | undefined;
  /** Deliveries that failed in a row (the retry's backoff). */
  failures = 0;

  constructor(
    private readonly env: Env,
    private readonly storage: DurableObjectStorage,
    readonly cursors: OutboxCursors,
  ) {}

  /** Delivers until every destination has the run's last event; one delivery at a time, joined by later callers. */
  drain(run: RunState, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        // Events committed while a delivery is under way are delivered by the same one.
        do await this.deliver(run, waitUntil);
        while (!this.done(run.seq));
        this.failures = 0;
      } catch (err) {
        this.failures++;
        throw err;
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /** When a failed delivery is tried again, or undefined when there is nothing left to deliver. */
  retryAt(seq: number, now: number): number | undefined {
    return this.done(seq) ? undefined : now + outboxRetryMs(Math.max(1, this.failures));
  }

  /** D1 has the run as it is at `seq` (its row was written with the run's runs-per-hour slot). */
  mirrored(seq: number): void {
    this.cursors.mirrored_seq = Math.max(this.cursors.mirrored_seq, seq);
  }

  /** Whether every event has reached every destination. */
  done(seq: number): boolean {
    return this.cursors.mirrored_seq >= seq && this.cursors.audited_seq >= seq;
  }

  /**
   * Copies what the run's events say to D1 and the audit log, up to the run's last event. Both are
   * idempotent (upserts; audit entries carry a source key), so a repeat after a crash is harmless.
   * `run` is the state in memory: the mirror copies it as it is now (never older than the events).
   */
  async deliver(run: RunState, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
    const db = makeDb(this.env.DB);
    const upto = run.seq;
    // The events both destinations still need, read once for the two (a page at a time).
    let page: RunEvent[] = [];
    const eventsAfter = async (after: number): Promise<RunEvent[]> => {
      if (page.length === 0 || page[0]!.seq > after + 1 || page.at(-1)!.seq <= after) page = await this.events(after, upto);
      return page.filter((e) => e.seq > after);
    };
    while (this.cursors.mirrored_seq < upto) {
      const from = this.cursors.mirrored_seq;
      // The state in memory is as new as the last event: a copy of every step covers them all.
      const all = this.cursors.mirror_all_upto > from;
      const events = all ? [] : await eventsAfter(from);
      const named = new Set(events.flatMap((e) => (e.step ? [e.step.id] : [])));
      // The run's rows and the ledger rows not yet copied, in one round trip to D1.
      const ledger = await this.unmirroredLedger();
      await db.batch([...mirrorStatements(db, run, all ? run.steps : run.steps.filter((s) => named.has(s.id))), ...ledger.rows.map((row) => db.insert(toolCalls).values(row).onConflictDoNothing())]);
      this.cursors.mirrored_seq = all ? upto : (events.at(-1)?.seq ?? upto);
      // Not awaited one by one: the marks' deletion and the cursor are written together.
      const writes = [];
      for (let i = 0; i < ledger.marks.length; i += KEYS_PER_OP) writes.push(this.storage.delete(ledger.marks.slice(i, i + KEYS_PER_OP)));
      writes.push(this.storage.put(OUTBOX_KEY, this.cursors));
      await Promise.all(writes);
    }
    while (this.cursors.audited_seq < upto) {
      const events = await eventsAfter(this.cursors.audited_seq);
      if (events.length === 0) break;
      const entries: AuditInput[] = events.map((ev) => auditEntry(run.id, ev));
      await this.env.AUDIT.get(this.env.AUDIT.idFromName(run.tenantId)).append(run.tenantId, entries);
      this.cursors.audited_seq = events.at(-1)!.seq;
      await this.storage.put(OUTBOX_KEY, this.cursors);
    }
    if (TERMINAL_RUN.has(run.status)) await this.finished(db, run, waitUntil);
  }

  /** A finished run: its shadow score (idempotent) and, once, its root span. */
  private async finished(db: DB, run: RunState, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
    if (run.mode === 'shadow') await recordFinalScore(this.env, db, run.tenantId, runView(run));
    // The mark is stored before the span is handed over: a repeat after a crash does not send it again.
    if (!this.cursors.root_span_recorded && !run.root_span_recorded) {
      this.cursors.root_span_recorded = true;
      await this.storage.put(OUTBOX_KEY, this.cursors);
      recordRunSpan(this.env, waitUntil, run);
    }
  }

  private async events(after: number, upto: number): Promise<RunEvent[]> {
    const listed = await this.storage.list<RunEvent>({ start: eventKey(after + 1), end: eventKey(upto + 1), limit: EVENTS_PER_DELIVERY });
    return [...listed.values()];
  }

  /** The ledger rows not yet in D1, and their marks (inserts are idempotent, so a repeat after a crash is harmless). */
  private async unmirroredLedger(): Promise<{ rows: LedgerRow[]; marks: string[] }> {
    const marks = [...(await this.storage.list({ prefix: UNMIRRORED_PREFIX })).keys()];
    const rows: LedgerRow[] = [];
    for (let i = 0; i < marks.length; i += KEYS_PER_OP) {
      const chunk = marks.slice(i, i + KEYS_PER_OP);
      rows.push(...(await this.storage.get<LedgerRow>(chunk.map((m) => `${LEDGER_PREFIX}${m.slice(UNMIRRORED_PREFIX.length)}`))).values());
    }
    return { rows, marks };
  }
}
