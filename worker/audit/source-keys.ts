/**
 * Source keys: an entry's `source_key` (e.g. `run:<id>:<event seq>`) makes a retried append record
 * it once. The audit object keeps every recorded key in its own storage (store.ts, written in the
 * entries' transaction), so finding duplicates never waits on D1.
 */
import { and, asc, eq, gt, isNotNull, lte } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog } from '../db/schema';
import { log } from '../observability/log';
import type { AuditInput } from './chain';
import type { AuditStore } from './store';

const PAGE = 5000;

/**
 * The inputs of each append that are not yet in the log: a source key already recorded, or seen
 * earlier in the same batch (from an earlier caller or the same one), drops its entry.
 */
export function dropRecorded(store: AuditStore, batch: AuditInput[][]): AuditInput[][] {
  const keys = [...new Set(batch.flat().flatMap((i) => (i.source_key ? [i.source_key] : [])))];
  const seen = store.recordedSourceKeys(keys);
  return batch.map((inputs) =>
    inputs.filter((i) => {
      if (!i.source_key) return true;
      if (seen.has(i.source_key)) return false;
      seen.add(i.source_key);
      return true;
    }),
  );
}

/**
 * Fills in the source keys of a log whose storage predates them (written by an earlier version, or
 * adopted from D1 part-way): those of the entries D1 holds up to `size` and of those still in the
 * outbox. Once, before the first append that needs them; an interrupted fill starts again.
 */
export async function backfillSourceKeys(db: DB, store: AuditStore, tenantId: string, size: number, now: number): Promise<void> {
  let after = 0;
  let recorded = 0;
  while (after < size) {
    const rows = await db
      .select({ seq: auditLog.seq, sourceKey: auditLog.sourceKey })
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, tenantId), gt(auditLog.seq, after), lte(auditLog.seq, size), isNotNull(auditLog.sourceKey)))
      .orderBy(asc(auditLog.seq))
      .limit(PAGE);
    store.recordSourceKeys(rows.map((r) => ({ sourceKey: r.sourceKey!, seq: r.seq })));
    recorded += rows.length;
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.seq;
  }
  const pending = store.outboxSourceKeys();
  store.recordSourceKeys(pending);
  store.markSourceKeysComplete(new Date(now).toISOString());
  if (size > 0) log.info('audit source keys recorded in the log object', { tenant: tenantId, entries: size, keys: recorded + pending.length });
}
