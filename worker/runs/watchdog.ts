import { and, inArray, lt } from 'drizzle-orm';
import { makeDb } from '../db/client';
import { runs } from '../db/schema';
import type { Env } from '../env';
import { runStub } from './create';

const ACTIVE = ['queued', 'planning', 'running'];

/**
 * Re-arms runs that look stalled. Alarms are durable, but the platform stops retrying an alarm
 * that keeps failing after a few attempts; this sweep (a cron trigger) gives such runs another turn.
 */
export async function sweepStalledRuns(env: Env, olderThanMs = 5 * 60_000, limit = 200): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanMs).toISOString();
  const stalled = await makeDb(env.DB)
    .select({ id: runs.id, tenantId: runs.tenantId })
    .from(runs)
    .where(and(inArray(runs.status, ACTIVE), lt(runs.updatedAt, cutoff)))
    .limit(limit);
  await Promise.allSettled(stalled.map((r) => runStub(env, r.tenantId, r.id).ensureScheduled()));
  return stalled.length;
}
