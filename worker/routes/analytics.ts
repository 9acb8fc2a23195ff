import { z } from '@hono/zod-openapi';
import { route, router } from '../api/route';
import { makeDb } from '../db/client';
import { ApiError, type ErrorDetail } from '../lib/errors';
import { analyticsReport, bucketCount, dashboardSummary, RUN_STATUSES, type Bucket } from '../store/analytics';

// Read-only aggregates for the UI's Dashboard and Analytics pages. Every role may read them (they
// show what `GET /runs` and `GET /audit` already show, summed); every query is the caller's tenant's.

const DEFAULT_SPAN_MS = 7 * 86_400_000;
const MAX_SPAN_MS = 366 * 86_400_000;
/** Enough for 41 days of hours or a year of days; more points than a chart can show. */
const MAX_BUCKETS = 1000;
/** Up to two days charts by the hour by default, longer ranges by the day. */
const AUTO_HOURLY_MS = 2 * 86_400_000;

const StatusCounts = z.object(Object.fromEntries(RUN_STATUSES.map((s) => [s, z.number()])) as Record<(typeof RUN_STATUSES)[number], z.ZodNumber>).openapi('RunStatusCounts');
const Ms = z.number().nullable().describe('Milliseconds; null when there is nothing to measure');

const AnalyticsReport = z
  .object({
    range: z.object({ from: z.string(), to: z.string(), bucket: z.enum(['hour', 'day']) }),
    runs: z.object({
      total: z.number(),
      by_status: StatusCounts,
      series: z.array(z.object({ bucket: z.string(), total: z.number(), by_status: StatusCounts })),
    }),
    duration: z
      .object({
        ended: z.number(),
        p50_ms: Ms,
        p95_ms: Ms,
        series: z.array(z.object({ bucket: z.string(), ended: z.number(), p50_ms: Ms, p95_ms: Ms })),
      })
      .describe('Created → ended of the runs that ended; exact nearest-rank percentiles'),
    usage: z.object({
      tokens: z.number(),
      cost_usd: z.number(),
      series: z.array(z.object({ bucket: z.string(), tokens: z.number(), cost_usd: z.number() })),
    }),
    approvals: z
      .object({
        requested: z.number(),
        answered: z.number(),
        p50_wait_ms: Ms,
        p95_wait_ms: Ms,
        series: z.array(z.object({ bucket: z.string(), answered: z.number(), p50_wait_ms: Ms, p95_wait_ms: Ms })),
      })
      .describe('Approval requests opened in the range and the wait until their first review (from the audit log)'),
    top_runbooks: z.array(
      z.object({ runbook: z.string(), runs: z.number(), succeeded: z.number(), failed: z.number(), cost_usd: z.number(), tokens: z.number(), avg_duration_ms: Ms }),
    ),
    shadow: z
      .object({
        runs: z.number(),
        scored: z.number(),
        mean_score: z.number().nullable(),
        series: z.array(z.object({ bucket: z.string(), runs: z.number(), scored: z.number(), mean_score: z.number().nullable() })),
      })
      .describe('Shadow runs, and the mean match score (0–1) of the scored ones'),
  })
  .openapi('AnalyticsReport');

const RunBrief = z
  .object({ id: z.string(), runbook: z.string(), status: z.string(), mode: z.string(), reason: z.string().nullable(), created_at: z.string(), ended_at: z.string().nullable() })
  .openapi('RunBrief');

const DashboardSummary = z
  .object({
    now: z.string(),
    active_runs: z.number().describe('Runs queued, planning, running or awaiting approval'),
    awaiting_approval: z.object({ runs: z.number(), steps: z.number() }),
    failed_24h: z.number().describe('Runs that ended failed or denied in the last 24 hours'),
    today: z
      .object({ since: z.string(), runs: z.number(), succeeded: z.number(), failed: z.number(), cost_usd: z.number(), tokens: z.number() })
      .describe('Runs created since 00:00 UTC'),
    active: z.array(RunBrief).describe('The newest runs in flight (at most 10)'),
    recent_failures: z.array(RunBrief).describe('The latest failures of the last 24 hours (at most 10)'),
  })
  .openapi('DashboardSummary');

const RangeQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe('Start (inclusive), ISO-8601; default: 7 days before `to`'),
  to: z.iso.datetime({ offset: true }).optional().describe('End (exclusive), ISO-8601; default: now'),
  bucket: z.enum(['hour', 'day']).optional().describe('Series granularity (UTC); default: hour up to 2 days, else day'),
  top: z.coerce.number().int().min(1).max(50).default(10).describe('How many runbooks `top_runbooks` lists'),
});

/** Resolves defaults and checks the range as a whole; each problem names its query field. */
function resolveRange(q: z.infer<typeof RangeQuery>, now: number): { from: string; to: string; bucket: Bucket } {
  const to = q.to ? Date.parse(q.to) : now;
  const from = q.from ? Date.parse(q.from) : to - DEFAULT_SPAN_MS;
  const problems: ErrorDetail[] = [];
  if (from >= to) problems.push({ path: 'query.from', message: 'must be before `to`' });
  else if (to - from > MAX_SPAN_MS) problems.push({ path: 'query.from', message: 'the range may span at most 366 days' });
  const bucket: Bucket = q.bucket ?? (to - from <= AUTO_HOURLY_MS ? 'hour' : 'day');
  if (problems.length === 0 && bucketCount(from, to, bucket) > MAX_BUCKETS) {
    problems.push({ path: 'query.bucket', message: `"${bucket}" gives more than ${MAX_BUCKETS} points for this range; use "day"` });
  }
  if (problems.length > 0) throw ApiError.validation(problems, `Invalid range: ${problems[0]!.path} ${problems[0]!.message}`);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket };
}

export const analyticsRoutes = router()
  .openapi(
    route({
      method: 'get',
      path: '/analytics',
      summary: 'Runs over time by status, duration p50/p95, tokens and cost, approval wait, top runbooks and shadow match, for a range',
      tags: ['analytics'],
      query: RangeQuery,
      response: AnalyticsReport,
    }),
    async (c) => {
      const q = c.req.valid('query');
      const range = resolveRange(q, Date.now());
      return c.json(await analyticsReport(makeDb(c.env.DB), c.get('principal').tenantId, range, q.top), 200);
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/analytics/summary',
      summary: 'The dashboard: runs in flight, waiting approvals, failures of the last 24 hours, cost today',
      tags: ['analytics'],
      response: DashboardSummary,
    }),
    async (c) => c.json(await dashboardSummary(makeDb(c.env.DB), c.get('principal').tenantId, Date.now()), 200),
  );
