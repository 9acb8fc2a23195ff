import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { makeDb } from '../db/client';
import { runs } from '../db/schema';
import type { Env } from '../env';
import { runClient } from './client';

/** A run that is not finished (awaiting_approval included: its expiry is a wake-up too). */
const UNFINISHED = ['queued', 'planning', 'running', 'awaiting_approval'];
const ACTIVE = ['queued', 'planning', 'running'];

export interface SweepOptions {
  /** A run is stalled when its wake-up is this far in the past. */
  olderThanMs?: number;
  pageSize?: number;
  /** Bounds one sweep (a cron invocation); the next sweep goes on where the runs still are. */
  maxPages?: number;
  now?: number;
}

/**
 * Re-arms runs that look stalled: their object wanted to be woken (`next_wake_at`, mirrored to
 * D1 by each run) long ago and the D1 copy has not moved since. Alarms are durable, but the
 * platform stops retrying an alarm that keeps failing, and a storage restore can lose one; this
 * sweep (a cron trigger) gives such runs another turn. It reads the partial index on
 * `next_wake_at` page by page (keyset), so it finds every stalled run without scanning the table;
 * rows mirrored before the column existed are found by their age, also paged.
 */
export async function sweepStalledRuns(env: Env, opts: SweepOptions = {}): Promise<number> {
  const { olderThanMs = 5 * 60_000, pageSize = 200, maxPages = 50, now = Date.now() } = opts;
  const db = makeDb(env.DB);
  const cutoff = new Date(now - olderThanMs).toISOString();
  let found = 0;
  let after: { at: string; id: string } | undefined;
  for (let page = 0; page < maxPages; page++) {
    const rows = await db
      .select({ id: runs.id, tenantId: runs.tenantId, at: runs.nextWakeAt })
      .from(runs)
      .where(
        and(
          isNotNull(runs.nextWakeAt),
          lt(runs.nextWakeAt, cutoff),
          inArray(runs.status, UNFINISHED),
          after ? or(gt(runs.nextWakeAt, after.at), and(eq(runs.nextWakeAt, after.at), gt(runs.id, after.id))) : undefined,
        ),
      )
      .orderBy(asc(runs.nextWakeAt), asc(runs.id))
      .limit(pageSize);
    found += await rearm(env, rows);
    if (rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    after = { at: last.at!, id: last.id };
  }
  let afterId: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const rows = await db
      .select({ id: runs.id, tenantId: runs.tenantId })
      .from(runs)
      .where(and(isNull(runs.nextWakeAt), inArray(runs.status, ACTIVE), lt(runs.updatedAt, cutoff), afterId ? gt(runs.id, afterId) : undefined))
      .orderBy(asc(runs.id))
      .limit(pageSize);
    found += await rearm(env, rows);
    if (rows.length < pageSize) break;
    afterId = rows[rows.length - 1]!.id;
  }
  return found;
}

async function rearm(env: Env, rows: { id: string; tenantId: string }[]): Promise<number> {
  await Promise.allSettled(rows.map((r) => runClient(env, r.tenantId, r.id).ensureScheduled()));
  return rows.length;
}
