import { sql, type SQL } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog, runSteps, runs } from '../db/schema';

/**
 * The aggregates behind the Dashboard and Analytics pages, computed in SQL over the tenant's own
 * rows: counts, sums and exact nearest-rank percentiles (window functions), never samples or
 * estimates. Buckets are UTC hours or days keyed by their start as an ISO string, the same format
 * as the stored timestamps, so the empty buckets SQL does not return are filled in here.
 */

export type Bucket = 'hour' | 'day';

export interface AnalyticsRange {
  /** Inclusive, ISO-8601 UTC (`toISOString()` form: compares with stored timestamps as text). */
  from: string;
  /** Exclusive. */
  to: string;
  bucket: Bucket;
}

export const RUN_STATUSES = ['queued', 'planning', 'running', 'awaiting_approval', 'succeeded', 'failed', 'denied', 'cancelled'] as const;
const ACTIVE = ['queued', 'planning', 'running', 'awaiting_approval'];
const FAILED = ['failed', 'denied'];

/**
 * Where shadow-run scores come from: an audit entry per scored shadow run with `data.score` in
 * [0, 1]. The shadow-mode module writes it; until then the trend shows run counts and no score.
 */
export const SHADOW_SCORE_ACTION = 'run.shadow.scored';

/** The audit actions that open and answer an approval request (run events are audited as `run.<type>`). */
const APPROVAL_REQUESTED = 'run.step.awaiting_approval';
const APPROVED = 'run.step.approved';
const DENIED = 'run.step.denied';

const MS_PER_DAY = 86_400_000;
const STEP_MS: Record<Bucket, number> = { hour: 3_600_000, day: MS_PER_DAY };

/** Milliseconds between two stored ISO timestamps, rounded to whole ms (julianday is a double). */
const msBetween = (start: SQL, end: SQL) => sql`CAST(round((julianday(${end}) - julianday(${start})) * ${sql.raw(`${MS_PER_DAY}.0`)}) AS INTEGER)`;

/** The start of the UTC hour or day of a stored timestamp, as `YYYY-MM-DDTHH:00:00.000Z`. */
function bucketOf(column: SQL, bucket: Bucket): SQL {
  return bucket === 'hour' ? sql`strftime('%Y-%m-%dT%H:00:00.000Z', ${column})` : sql`strftime('%Y-%m-%dT00:00:00.000Z', ${column})`;
}

/** Bucket starts from the one holding `from` up to (not including) `to`. */
export function bucketStarts(range: AnalyticsRange): string[] {
  const step = STEP_MS[range.bucket];
  const out: string[] = [];
  const end = Date.parse(range.to);
  for (let t = Math.floor(Date.parse(range.from) / step) * step; t < end; t += step) out.push(new Date(t).toISOString());
  return out;
}

export function bucketCount(from: number, to: number, bucket: Bucket): number {
  const step = STEP_MS[bucket];
  return Math.ceil(to / step) - Math.floor(from / step);
}

interface Percentiles {
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/**
 * Exact nearest-rank p50 and p95 of `ms` per `grp`, from a subquery yielding `(grp, ms)`. The rank
 * of percentile p among n values is ceil(p·n), in integer arithmetic as `(n·p% + 99) / 100`.
 */
async function percentiles(db: DB, values: SQL): Promise<Map<string, Percentiles>> {
  const rows = await db.all<{ grp: string; n: number; p50: number | null; p95: number | null }>(sql`
    WITH v AS (${values}),
    r AS (SELECT grp, ms, row_number() OVER (PARTITION BY grp ORDER BY ms) AS rn, count(*) OVER (PARTITION BY grp) AS n FROM v)
    SELECT grp, n,
           max(CASE WHEN rn = (n * 50 + 99) / 100 THEN ms END) AS p50,
           max(CASE WHEN rn = (n * 95 + 99) / 100 THEN ms END) AS p95
    FROM r GROUP BY grp`);
  return new Map(rows.map((r) => [r.grp, { count: Number(r.n), p50_ms: num(r.p50), p95_ms: num(r.p95) }]));
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const inList = (values: readonly string[]) => sql.join(values.map((v) => sql`${v}`), sql`, `);

/** Runs created in the range, for the tenant: the population of every run aggregate. */
const runsIn = (tenantId: string, r: AnalyticsRange) => sql`${runs.tenantId} = ${tenantId} AND ${runs.createdAt} >= ${r.from} AND ${runs.createdAt} < ${r.to}`;

type StatusCounts = Record<(typeof RUN_STATUSES)[number], number>;
const zeroStatuses = (): StatusCounts => Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as StatusCounts;

async function runCounts(db: DB, tenantId: string, r: AnalyticsRange) {
  const rows = await db.all<{ bucket: string; status: string; n: number; tokens: number; cost: number }>(sql`
    SELECT ${bucketOf(sql`${runs.createdAt}`, r.bucket)} AS bucket, ${runs.status} AS status, count(*) AS n,
           coalesce(sum(${runs.tokens}), 0) AS tokens, coalesce(sum(${runs.costUsd}), 0) AS cost
    FROM ${runs} WHERE ${runsIn(tenantId, r)}
    GROUP BY bucket, status`);
  return rows.map((x) => ({ ...x, n: Number(x.n), tokens: Number(x.tokens), cost: Number(x.cost) }));
}

function durations(db: DB, tenantId: string, r: AnalyticsRange, grp: SQL) {
  return percentiles(
    db,
    sql`SELECT ${grp} AS grp, ${msBetween(sql`${runs.createdAt}`, sql`${runs.endedAt}`)} AS ms
        FROM ${runs} WHERE ${runsIn(tenantId, r)} AND ${runs.endedAt} IS NOT NULL`,
  );
}

/**
 * Approval requests opened in the range and how long each waited for its first review: the next
 * audit entry about the same run and step that is a review or a new request (arguments changed).
 * A policy denial is written by the engine (`system`), so only people's denials count as reviews.
 */
function approvalRequests(tenantId: string, r: AnalyticsRange): SQL {
  return sql`
    WITH req AS (
      SELECT a.seq, a.ts, a.resource_id AS run_id, json_extract(a.data, '$.step') AS step
      FROM ${auditLog} a
      WHERE a.tenant_id = ${tenantId} AND a.action = ${APPROVAL_REQUESTED} AND a.ts >= ${r.from} AND a.ts < ${r.to}
    ),
    nxt AS (
      SELECT req.*, (
        SELECT x.seq FROM ${auditLog} x
        WHERE x.tenant_id = ${tenantId} AND x.resource_type = 'run' AND x.resource_id = req.run_id AND x.seq > req.seq
          AND (x.action IN (${APPROVED}, ${APPROVAL_REQUESTED}) OR (x.action = ${DENIED} AND x.actor_type <> 'system'))
          AND json_extract(x.data, '$.step') = req.step
        ORDER BY x.seq LIMIT 1
      ) AS next_seq
      FROM req
    )
    SELECT nxt.ts AS requested_at, n.action AS next_action, n.ts AS next_ts
    FROM nxt LEFT JOIN ${auditLog} n ON n.tenant_id = ${tenantId} AND n.seq = nxt.next_seq`;
}

async function approvalWaits(db: DB, tenantId: string, r: AnalyticsRange) {
  const answered = sql`SELECT * FROM (${approvalRequests(tenantId, r)}) WHERE next_action IN (${APPROVED}, ${DENIED})`;
  const [counts, overall, perBucket] = await Promise.all([
    db.all<{ requested: number; answered: number }>(sql`
      SELECT count(*) AS requested, coalesce(sum(next_action IN (${APPROVED}, ${DENIED})), 0) AS answered
      FROM (${approvalRequests(tenantId, r)})`),
    percentiles(db, sql`SELECT 'all' AS grp, ${msBetween(sql`requested_at`, sql`next_ts`)} AS ms FROM (${answered})`),
    percentiles(db, sql`SELECT ${bucketOf(sql`requested_at`, r.bucket)} AS grp, ${msBetween(sql`requested_at`, sql`next_ts`)} AS ms FROM (${answered})`),
  ]);
  return { requested: Number(counts[0]?.requested ?? 0), answered: Number(counts[0]?.answered ?? 0), overall: overall.get('all'), perBucket };
}

async function topRunbooks(db: DB, tenantId: string, r: AnalyticsRange, limit: number) {
  const rows = await db.all<{ runbook: string; runs: number; succeeded: number; failed: number; cost: number; tokens: number; avg_ms: number | null }>(sql`
    SELECT ${runs.runbookName} AS runbook, count(*) AS runs,
           sum(${runs.status} = 'succeeded') AS succeeded,
           sum(${runs.status} IN (${inList(FAILED)})) AS failed,
           coalesce(sum(${runs.costUsd}), 0) AS cost, coalesce(sum(${runs.tokens}), 0) AS tokens,
           avg(CASE WHEN ${runs.endedAt} IS NOT NULL THEN ${msBetween(sql`${runs.createdAt}`, sql`${runs.endedAt}`)} END) AS avg_ms
    FROM ${runs} WHERE ${runsIn(tenantId, r)}
    GROUP BY ${runs.runbookName} ORDER BY runs DESC, runbook ASC LIMIT ${limit}`);
  return rows.map((x) => ({
    runbook: x.runbook,
    runs: Number(x.runs),
    succeeded: Number(x.succeeded),
    failed: Number(x.failed),
    cost_usd: Number(x.cost),
    tokens: Number(x.tokens),
    avg_duration_ms: x.avg_ms === null ? null : Math.round(Number(x.avg_ms)),
  }));
}

async function shadowTrend(db: DB, tenantId: string, r: AnalyticsRange) {
  const [runRows, scoreRows] = await Promise.all([
    db.all<{ bucket: string; n: number }>(sql`
      SELECT ${bucketOf(sql`${runs.createdAt}`, r.bucket)} AS bucket, count(*) AS n
      FROM ${runs} WHERE ${runsIn(tenantId, r)} AND ${runs.mode} = 'shadow' GROUP BY bucket`),
    db.all<{ bucket: string; n: number; total: number }>(sql`
      SELECT ${bucketOf(sql`${auditLog.ts}`, r.bucket)} AS bucket, count(*) AS n, sum(json_extract(${auditLog.data}, '$.score')) AS total
      FROM ${auditLog}
      WHERE ${auditLog.tenantId} = ${tenantId} AND ${auditLog.action} = ${SHADOW_SCORE_ACTION} AND ${auditLog.ts} >= ${r.from} AND ${auditLog.ts} < ${r.to}
        AND json_type(${auditLog.data}, '$.score') IN ('integer', 'real')
      GROUP BY bucket`),
  ]);
  return { runs: new Map(runRows.map((x) => [x.bucket, Number(x.n)])), scores: new Map(scoreRows.map((x) => [x.bucket, { n: Number(x.n), total: Number(x.total) }])) };
}

/** Everything the Analytics page charts, for one tenant and range. */
export async function analyticsReport(db: DB, tenantId: string, range: AnalyticsRange, topLimit = 10) {
  const [counts, durationAll, durationBuckets, approvals, top, shadow] = await Promise.all([
    runCounts(db, tenantId, range),
    durations(db, tenantId, range, sql`'all'`),
    durations(db, tenantId, range, bucketOf(sql`${runs.createdAt}`, range.bucket)),
    approvalWaits(db, tenantId, range),
    topRunbooks(db, tenantId, range, topLimit),
    shadowTrend(db, tenantId, range),
  ]);

  const starts = bucketStarts(range);
  const perBucket = new Map(starts.map((b) => [b, { by_status: zeroStatuses(), tokens: 0, cost_usd: 0 }]));
  const byStatus = zeroStatuses();
  let tokens = 0;
  let cost = 0;
  for (const row of counts) {
    const status = row.status as keyof StatusCounts;
    if (status in byStatus) byStatus[status] += row.n;
    tokens += row.tokens;
    cost += row.cost;
    const b = perBucket.get(row.bucket);
    if (!b) continue;
    if (status in b.by_status) b.by_status[status] += row.n;
    b.tokens += row.tokens;
    b.cost_usd += row.cost;
  }
  const total = Object.values(byStatus).reduce((a, n) => a + n, 0);
  const overall = durationAll.get('all');
  const scoreTotals = [...shadow.scores.values()].reduce((a, s) => ({ n: a.n + s.n, total: a.total + s.total }), { n: 0, total: 0 });

  return {
    range,
    runs: {
      total,
      by_status: byStatus,
      series: starts.map((bucket) => {
        const b = perBucket.get(bucket)!;
        return { bucket, total: Object.values(b.by_status).reduce((a, n) => a + n, 0), by_status: b.by_status };
      }),
    },
    duration: {
      ended: overall?.count ?? 0,
      p50_ms: overall?.p50_ms ?? null,
      p95_ms: overall?.p95_ms ?? null,
      series: starts.map((bucket) => {
        const d = durationBuckets.get(bucket);
        return { bucket, ended: d?.count ?? 0, p50_ms: d?.p50_ms ?? null, p95_ms: d?.p95_ms ?? null };
      }),
    },
    usage: {
      tokens,
      cost_usd: roundUsd(cost),
      series: starts.map((bucket) => ({ bucket, tokens: perBucket.get(bucket)!.tokens, cost_usd: roundUsd(perBucket.get(bucket)!.cost_usd) })),
    },
    approvals: {
      requested: approvals.requested,
      answered: approvals.answered,
      p50_wait_ms: approvals.overall?.p50_ms ?? null,
      p95_wait_ms: approvals.overall?.p95_ms ?? null,
      series: starts.map((bucket) => {
        const w = approvals.perBucket.get(bucket);
        return { bucket, answered: w?.count ?? 0, p50_wait_ms: w?.p50_ms ?? null, p95_wait_ms: w?.p95_ms ?? null };
      }),
    },
    top_runbooks: top,
    shadow: {
      runs: [...shadow.runs.values()].reduce((a, n) => a + n, 0),
      scored: scoreTotals.n,
      mean_score: scoreTotals.n > 0 ? scoreTotals.total / scoreTotals.n : null,
      series: starts.map((bucket) => {
        const s = shadow.scores.get(bucket);
        return { bucket, runs: shadow.runs.get(bucket) ?? 0, scored: s?.n ?? 0, mean_score: s ? s.total / s.n : null };
      }),
    },
  };
}

/** Sums of floating-point costs drift in the last digits; cents of cents are plenty. */
const roundUsd = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * The Dashboard's "now": runs in flight, steps waiting for people, failures of the last 24 hours
 * and today's (UTC) spend, with short lists to click through.
 */
export async function dashboardSummary(db: DB, tenantId: string, now: number, listLimit = 10) {
  const dayStart = new Date(Math.floor(now / MS_PER_DAY) * MS_PER_DAY).toISOString();
  const since24h = new Date(now - MS_PER_DAY).toISOString();
  const runView = sql`${runs.id} AS id, ${runs.runbookName} AS runbook, ${runs.status} AS status, ${runs.mode} AS mode, ${runs.reason} AS reason, ${runs.createdAt} AS created_at, ${runs.endedAt} AS ended_at`;
  type RunRow = { id: string; runbook: string; status: string; mode: string; reason: string | null; created_at: string; ended_at: string | null };
  const [counts, waiting, today, active, failures] = await Promise.all([
    db.all<{ active: number; awaiting_runs: number; failed_24h: number }>(sql`
      SELECT coalesce(sum(${runs.status} IN (${inList(ACTIVE)})), 0) AS active,
             coalesce(sum(${runs.status} = 'awaiting_approval'), 0) AS awaiting_runs,
             coalesce(sum(${runs.status} IN (${inList(FAILED)}) AND ${runs.endedAt} >= ${since24h}), 0) AS failed_24h
      FROM ${runs} WHERE ${runs.tenantId} = ${tenantId} AND (${runs.status} IN (${inList([...ACTIVE, ...FAILED])}))`),
    db.all<{ n: number }>(sql`SELECT count(*) AS n FROM ${runSteps} WHERE ${runSteps.tenantId} = ${tenantId} AND ${runSteps.status} = 'awaiting_approval'`),
    db.all<{ runs: number; succeeded: number; failed: number; cost: number; tokens: number }>(sql`
      SELECT count(*) AS runs, coalesce(sum(${runs.status} = 'succeeded'), 0) AS succeeded, coalesce(sum(${runs.status} IN (${inList(FAILED)})), 0) AS failed,
             coalesce(sum(${runs.costUsd}), 0) AS cost, coalesce(sum(${runs.tokens}), 0) AS tokens
      FROM ${runs} WHERE ${runs.tenantId} = ${tenantId} AND ${runs.createdAt} >= ${dayStart}`),
    db.all<RunRow>(sql`SELECT ${runView} FROM ${runs} WHERE ${runs.tenantId} = ${tenantId} AND ${runs.status} IN (${inList(ACTIVE)}) ORDER BY ${runs.createdAt} DESC LIMIT ${listLimit}`),
    db.all<RunRow>(sql`
      SELECT ${runView} FROM ${runs}
      WHERE ${runs.tenantId} = ${tenantId} AND ${runs.status} IN (${inList(FAILED)}) AND ${runs.endedAt} >= ${since24h}
      ORDER BY ${runs.endedAt} DESC LIMIT ${listLimit}`),
  ]);
  const c = counts[0];
  const t = today[0];
  return {
    now: new Date(now).toISOString(),
    active_runs: Number(c?.active ?? 0),
    awaiting_approval: { runs: Number(c?.awaiting_runs ?? 0), steps: Number(waiting[0]?.n ?? 0) },
    failed_24h: Number(c?.failed_24h ?? 0),
    today: {
      since: dayStart,
      runs: Number(t?.runs ?? 0),
      succeeded: Number(t?.succeeded ?? 0),
      failed: Number(t?.failed ?? 0),
      cost_usd: roundUsd(Number(t?.cost ?? 0)),
      tokens: Number(t?.tokens ?? 0),
    },
    active: active,
    recent_failures: failures,
  };
}
