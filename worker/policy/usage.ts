import { and, eq, gt, gte, ne, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { limitUsage, runs } from '../db/schema';
import { parseDuration } from '../lib/duration';
import { limitCovers, limitName } from './decide';
import type { Policy, PolicyLimit } from './schema';

/**
 * The tenant-wide counters behind budgets and blast-radius limits, kept in D1. Counting and
 * reserving are single SQL statements: D1 runs each statement alone, so a conditional insert is
 * an atomic "take a slot if one is free" — two runs can never both take the last one.
 */

/** Start of the UTC day of `now`, as the ISO string `runs.created_at` is compared with. */
export function utcDayStart(now: number): string {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).toISOString();
}

/** What the tenant's other runs created today (UTC) have cost. */
export async function tenantCostToday(db: DB, tenantId: string, excludeRunId: string, now: number): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`coalesce(sum(${runs.costUsd}), 0)` })
    .from(runs)
    .where(and(eq(runs.tenantId, tenantId), gte(runs.createdAt, utcDayStart(now)), ne(runs.id, excludeRunId)));
  return Number(row?.total ?? 0);
}

/** `*` in a tool pattern as SQL LIKE, with LIKE's own wildcards escaped (tool ids contain `_`). */
export function likePattern(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (ch) => `\\${ch}`).replace(/\*/g, '%');
}

function coveredSql(limit: PolicyLimit) {
  return sql.join(
    limit.tools.map((p) => sql`${limitUsage.tool} LIKE ${likePattern(p)} ESCAPE '\\'`),
    sql` OR `,
  );
}

function windowMs(limit: PolicyLimit): number {
  return parseDuration(limit.per) ?? 0;
}

/** Calls counted in each limit window that covers `toolId` (undefined for limits that do not). */
export async function limitCounts(db: DB, tenantId: string, policy: Policy, toolId: string, now: number): Promise<(number | undefined)[] | undefined> {
  const limits = policy.spec.limits;
  if (!limits.some((l) => limitCovers(l, toolId))) return undefined;
  return Promise.all(
    limits.map(async (limit) => {
      if (!limitCovers(limit, toolId)) return undefined;
      const [row] = await db
        .select({ n: sql<number>`count(*)` })
        .from(limitUsage)
        .where(and(eq(limitUsage.tenantId, tenantId), gt(limitUsage.at, now - windowMs(limit)), sql`(${coveredSql(limit)})`));
      return Number(row?.n ?? 0);
    }),
  );
}

export type Reservation = { ok: true } | { ok: false; limit: PolicyLimit; name: string; used: number };

/**
 * Takes one slot in every limit that covers the call, atomically; the (run, step) key makes a
 * re-delivered step take it once. Refused when any covering window is full, naming that limit.
 */
export async function reserveLimitSlot(
  db: DB,
  call: { tenantId: string; runId: string; stepId: string; tool: string },
  policy: Policy,
  now: number,
  retried = false,
): Promise<Reservation> {
  const covering = policy.spec.limits.filter((l) => limitCovers(l, call.tool));
  if (covering.length === 0) return { ok: true };
  const [existing] = await db
    .select({ at: limitUsage.at })
    .from(limitUsage)
    .where(and(eq(limitUsage.tenantId, call.tenantId), eq(limitUsage.runId, call.runId), eq(limitUsage.stepId, call.stepId)));
  if (existing) return { ok: true };
  const free = sql.join(
    covering.map(
      (limit) =>
        sql`(SELECT count(*) FROM ${limitUsage} WHERE ${limitUsage.tenantId} = ${call.tenantId} AND ${limitUsage.at} > ${now - windowMs(limit)} AND (${coveredSql(limit)})) < ${limit.max}`,
    ),
    sql` AND `,
  );
  const result = await db.run(
    sql`INSERT INTO ${limitUsage} (tenant_id, run_id, step_id, tool, at) SELECT ${call.tenantId}, ${call.runId}, ${call.stepId}, ${call.tool}, ${now} WHERE ${free} ON CONFLICT DO NOTHING`,
  );
  if (result.meta.changes > 0) return { ok: true };
  // Lost a race with our own re-delivery (the row exists now), or a window is full: find out which.
  const counts = await limitCounts(db, call.tenantId, policy, call.tool, now);
  const [again] = await db
    .select({ at: limitUsage.at })
    .from(limitUsage)
    .where(and(eq(limitUsage.tenantId, call.tenantId), eq(limitUsage.runId, call.runId), eq(limitUsage.stepId, call.stepId)));
  if (again) return { ok: true };
  for (const [i, limit] of policy.spec.limits.entries()) {
    const used = counts?.[i];
    if (used !== undefined && used >= limit.max) return { ok: false, limit, name: limitName(limit), used };
  }
  // A window freed up between the insert and the count: try once more.
  if (!retried) return reserveLimitSlot(db, call, policy, now, true);
  const limit = covering[0]!;
  return { ok: false, limit, name: limitName(limit), used: limit.max };
}

/** The reason a run refused by `max_runs_per_hour` carries; such runs do not count against the window. */
export const RUNS_PER_HOUR_PREFIX = 'budget_exceeded: max_runs_per_hour';

/**
 * Inserts the run's D1 row only if the tenant started fewer than `max` runs in the last hour
 * (runs refused by this same budget do not count). Runs that act (execute) and rehearsals (dry
 * runs, shadow runs) are counted apart, each against `max`: rehearsing can never use up the slots
 * an incident's real run needs. One statement, so concurrent starts cannot both take the last
 * slot. Returns whether the row was inserted (false also when a run with this id exists already:
 * an idempotent retry).
 */
export async function reserveRunSlot(db: DB, row: RunRowValues, max: number, now: number): Promise<boolean> {
  const since = new Date(now - 3_600_000).toISOString();
  const result = await db.run(sql`
    INSERT INTO ${runs} (id, tenant_id, runbook_id, runbook_name, runbook_version, policy_id, status, mode, inputs, context,
                         actor_type, actor_id, actor_role, actor_person, reason, cost_usd, tokens, created_at, updated_at)
    SELECT ${row.id}, ${row.tenantId}, ${row.runbookId}, ${row.runbookName}, ${row.runbookVersion}, ${row.policyId}, ${row.status},
           ${row.mode}, ${JSON.stringify(row.inputs)}, ${JSON.stringify(row.context)}, ${row.actorType}, ${row.actorId}, ${row.actorRole},
           ${row.actorPerson}, ${row.reason}, ${row.costUsd}, ${row.tokens}, ${row.createdAt}, ${row.updatedAt}
    WHERE (SELECT count(*) FROM ${runs} WHERE ${runs.tenantId} = ${row.tenantId} AND ${runs.createdAt} > ${since}
           AND (${runs.mode} = 'execute') = ${row.mode === 'execute' ? 1 : 0}
           AND (${runs.reason} IS NULL OR ${runs.reason} NOT LIKE ${RUNS_PER_HOUR_PREFIX + '%'})) < ${max}
    ON CONFLICT (id) DO NOTHING`);
  return result.meta.changes > 0;
}

export interface RunRowValues {
  id: string;
  tenantId: string;
  runbookId: string;
  runbookName: string;
  runbookVersion: number;
  policyId: string | null;
  status: string;
  mode: string;
  inputs: unknown;
  context: unknown;
  actorType: string;
  actorId: string;
  actorRole: string;
  actorPerson: string | null;
  reason: string | null;
  costUsd: number;
  tokens: number;
  createdAt: string;
  updatedAt: string;
}
