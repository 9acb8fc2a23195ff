import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

// The analytics aggregates against rows written with known timestamps (so every count, sum and
// percentile has one right answer), and once against a real run through its approval.

interface SeedRun {
  runbook?: string;
  status: string;
  mode?: string;
  created: string;
  /** Seconds from created to ended; absent for a run still going. */
  seconds?: number;
  cost?: number;
  tokens?: number;
}

let seq = 0;
async function seedRuns(tenantId: string, list: SeedRun[]): Promise<string[]> {
  const ids: string[] = [];
  for (const r of list) {
    const id = `run_seed_${++seq}_${Math.random().toString(36).slice(2, 8)}`;
    ids.push(id);
    const ended = r.seconds === undefined ? null : new Date(Date.parse(r.created) + r.seconds * 1000).toISOString();
    await env.DB.prepare(
      `INSERT INTO runs (id, tenant_id, runbook_id, runbook_name, runbook_version, status, mode, inputs, context, actor_type, actor_id, cost_usd, tokens, created_at, updated_at, ended_at)
       VALUES (?, ?, 'rb_seed', ?, 1, ?, ?, '{}', '{}', 'api_key', 'key_seed', ?, ?, ?, ?, ?)`,
    )
      .bind(id, tenantId, r.runbook ?? 'seeded', r.status, r.mode ?? 'execute', r.cost ?? 0, r.tokens ?? 0, r.created, r.created, ended)
      .run();
  }
  return ids;
}

/** Audit rows for the approval-wait and shadow queries (the chain itself is not what is tested here). */
async function seedAudit(tenantId: string, rows: { ts: string; action: string; run: string; data: Record<string, unknown>; actor?: string }[]): Promise<void> {
  let n = 0;
  for (const r of rows) {
    n += 1;
    await env.DB.prepare(
      `INSERT INTO audit_log (tenant_id, seq, ts, actor_type, actor_id, action, resource_type, resource_id, data, prev_hash, hash, key_id)
       VALUES (?, ?, ?, ?, ?, ?, 'run', ?, ?, 'x', 'x', 'k1')`,
    )
      .bind(tenantId, 10_000 + n, r.ts, r.actor === 'system' ? 'system' : 'api_key', r.actor ?? 'key_reviewer', r.action, r.run, JSON.stringify(r.data))
      .run();
  }
}

type Report = {
  range: { from: string; to: string; bucket: string };
  runs: { total: number; by_status: Record<string, number>; series: { bucket: string; total: number; by_status: Record<string, number> }[] };
  duration: { ended: number; p50_ms: number | null; p95_ms: number | null; series: { bucket: string; ended: number; p50_ms: number | null; p95_ms: number | null }[] };
  usage: { tokens: number; cost_usd: number; series: { bucket: string; tokens: number; cost_usd: number }[] };
  approvals: { requested: number; answered: number; p50_wait_ms: number | null; p95_wait_ms: number | null; series: { bucket: string; answered: number; p50_wait_ms: number | null }[] };
  top_runbooks: { runbook: string; runs: number; succeeded: number; failed: number; cost_usd: number; tokens: number; avg_duration_ms: number | null }[];
  shadow: { runs: number; scored: number; mean_score: number | null; series: { bucket: string; runs: number; scored: number; mean_score: number | null }[] };
};

const DAY1 = '2025-03-01T00:00:00.000Z';
const range = (q: string) => `/analytics?from=2025-03-01T00:00:00Z&to=2025-03-04T00:00:00Z&${q}`;

async function report(t: TestTenant, path: string): Promise<Report> {
  const res = await api(path, { key: t.keys.viewer });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body as Report;
}

describe('GET /analytics', () => {
  it('counts runs by status per bucket, with empty buckets filled and the range end excluded', async () => {
    const t = await newTenant();
    await seedRuns(t.id, [
      { status: 'succeeded', created: '2025-03-01T09:00:00.000Z', seconds: 5 },
      { status: 'succeeded', created: '2025-03-01T23:59:59.999Z', seconds: 5 },
      { status: 'failed', created: '2025-03-01T10:00:00.000Z', seconds: 5 },
      { status: 'running', created: '2025-03-03T08:00:00.000Z' },
      // Outside the range on both sides.
      { status: 'succeeded', created: '2025-02-28T23:59:59.999Z', seconds: 5 },
      { status: 'succeeded', created: '2025-03-04T00:00:00.000Z', seconds: 5 },
    ]);
    const r = await report(t, range('bucket=day'));
    expect(r.range).toEqual({ from: DAY1, to: '2025-03-04T00:00:00.000Z', bucket: 'day' });
    expect(r.runs.total).toBe(4);
    expect(r.runs.by_status).toMatchObject({ succeeded: 2, failed: 1, running: 1, denied: 0 });
    expect(r.runs.series.map((b) => [b.bucket, b.total])).toEqual([
      ['2025-03-01T00:00:00.000Z', 3],
      ['2025-03-02T00:00:00.000Z', 0],
      ['2025-03-03T00:00:00.000Z', 1],
    ]);
    expect(r.runs.series[0]!.by_status).toMatchObject({ succeeded: 2, failed: 1 });
  });

  it('computes exact nearest-rank p50 and p95 of run durations, overall and per bucket', async () => {
    const t = await newTenant();
    // Day 1: 20 runs lasting 1..20 s → p50 is the 10th (10 s), p95 the 19th (19 s).
    await seedRuns(t.id, Array.from({ length: 20 }, (_, i) => ({ status: 'succeeded', created: `2025-03-01T0${i % 10}:00:00.000Z`, seconds: i + 1 })));
    // Day 2: one 100 s run, and one still running (no duration).
    await seedRuns(t.id, [
      { status: 'failed', created: '2025-03-02T12:00:00.000Z', seconds: 100 },
      { status: 'running', created: '2025-03-02T12:00:00.000Z' },
    ]);
    const r = await report(t, range('bucket=day'));
    expect(r.duration.series[0]).toEqual({ bucket: DAY1, ended: 20, p50_ms: 10_000, p95_ms: 19_000 });
    expect(r.duration.series[1]).toEqual({ bucket: '2025-03-02T00:00:00.000Z', ended: 1, p50_ms: 100_000, p95_ms: 100_000 });
    expect(r.duration.series[2]).toEqual({ bucket: '2025-03-03T00:00:00.000Z', ended: 0, p50_ms: null, p95_ms: null });
    // Overall, 21 values: ranks ceil(10.5) = 11 and ceil(19.95) = 20.
    expect(r.duration).toMatchObject({ ended: 21, p50_ms: 11_000, p95_ms: 20_000 });
  });

  it('sums tokens and cost per bucket', async () => {
    const t = await newTenant();
    await seedRuns(t.id, [
      { status: 'succeeded', created: '2025-03-01T01:00:00.000Z', seconds: 1, tokens: 1200, cost: 0.012 },
      { status: 'failed', created: '2025-03-01T02:00:00.000Z', seconds: 1, tokens: 800, cost: 0.008 },
      { status: 'succeeded', created: '2025-03-03T02:00:00.000Z', seconds: 1, tokens: 50, cost: 0.0005 },
    ]);
    const r = await report(t, range('bucket=day'));
    expect(r.usage.tokens).toBe(2050);
    expect(r.usage.cost_usd).toBeCloseTo(0.0205, 10);
    expect(r.usage.series.map((b) => [b.tokens, b.cost_usd])).toEqual([
      [2000, 0.02],
      [0, 0],
      [50, 0.0005],
    ]);
  });

  it('measures the approval wait from the audit log: first review by a person, not a policy denial or a new request', async () => {
    const t = await newTenant();
    await seedAudit(t.id, [
      // r1: approved after 90 s.
      { ts: '2025-03-01T10:00:00.000Z', action: 'run.step.awaiting_approval', run: 'r1', data: { step: 'drain' }, actor: 'system' },
      { ts: '2025-03-01T10:00:30.000Z', action: 'run.step.started', run: 'r1', data: { step: 'other' }, actor: 'system' },
      { ts: '2025-03-01T10:01:30.000Z', action: 'run.step.approved', run: 'r1', data: { step: 'drain' } },
      // A second (quorum) approval does not count again.
      { ts: '2025-03-01T10:05:00.000Z', action: 'run.step.approved', run: 'r1', data: { step: 'drain' } },
      // r2: denied by a person after 30 s.
      { ts: '2025-03-01T11:00:00.000Z', action: 'run.step.awaiting_approval', run: 'r2', data: { step: 'scale' }, actor: 'system' },
      { ts: '2025-03-01T11:00:30.000Z', action: 'run.step.denied', run: 'r2', data: { step: 'scale' } },
      // r3: the request was replaced (arguments changed) and the second one approved after 10 s.
      { ts: '2025-03-02T09:00:00.000Z', action: 'run.step.awaiting_approval', run: 'r3', data: { step: 'x' }, actor: 'system' },
      { ts: '2025-03-02T09:10:00.000Z', action: 'run.step.awaiting_approval', run: 'r3', data: { step: 'x' }, actor: 'system' },
      { ts: '2025-03-02T09:10:10.000Z', action: 'run.step.approved', run: 'r3', data: { step: 'x' } },
      // r4: still waiting; the engine's own denial of another run's step is no review.
      { ts: '2025-03-02T10:00:00.000Z', action: 'run.step.awaiting_approval', run: 'r4', data: { step: 'y' }, actor: 'system' },
      { ts: '2025-03-02T10:00:05.000Z', action: 'run.step.denied', run: 'r4', data: { step: 'y' }, actor: 'system' },
    ]);
    const r = await report(t, range('bucket=day'));
    expect(r.approvals).toMatchObject({ requested: 5, answered: 3 });
    // Waits 10 s, 30 s, 90 s: p50 = 2nd, p95 = 3rd.
    expect(r.approvals.p50_wait_ms).toBe(30_000);
    expect(r.approvals.p95_wait_ms).toBe(90_000);
    expect(r.approvals.series.map((b) => [b.answered, b.p50_wait_ms])).toEqual([
      [2, 30_000],
      [1, 10_000],
      [0, null],
    ]);
  });

  it('ranks the top runbooks by runs, with outcomes, spend and average duration', async () => {
    const t = await newTenant();
    await seedRuns(t.id, [
      { runbook: 'alpha', status: 'succeeded', created: '2025-03-01T01:00:00.000Z', seconds: 10, cost: 0.5, tokens: 10 },
      { runbook: 'alpha', status: 'failed', created: '2025-03-01T02:00:00.000Z', seconds: 30, cost: 0.25, tokens: 5 },
      { runbook: 'alpha', status: 'denied', created: '2025-03-01T03:00:00.000Z', seconds: 20 },
      { runbook: 'beta', status: 'succeeded', created: '2025-03-01T01:00:00.000Z', seconds: 4 },
      { runbook: 'beta', status: 'running', created: '2025-03-01T01:00:00.000Z' },
      { runbook: 'gamma', status: 'succeeded', created: '2025-03-01T01:00:00.000Z', seconds: 1 },
    ]);
    const r = await report(t, range('top=2'));
    expect(r.top_runbooks).toEqual([
      { runbook: 'alpha', runs: 3, succeeded: 1, failed: 2, cost_usd: 0.75, tokens: 15, avg_duration_ms: 20_000 },
      { runbook: 'beta', runs: 2, succeeded: 1, failed: 0, cost_usd: 0, tokens: 0, avg_duration_ms: 4_000 },
    ]);
  });

  it('charts shadow runs and the mean match score of the scored ones', async () => {
    const t = await newTenant();
    await seedRuns(t.id, [
      { status: 'succeeded', mode: 'shadow', created: '2025-03-01T01:00:00.000Z', seconds: 1 },
      { status: 'succeeded', mode: 'shadow', created: '2025-03-01T02:00:00.000Z', seconds: 1 },
      { status: 'succeeded', mode: 'execute', created: '2025-03-01T02:00:00.000Z', seconds: 1 },
    ]);
    await seedAudit(t.id, [
      { ts: '2025-03-01T01:00:05.000Z', action: 'run.shadow.scored', run: 's1', data: { score: 1 }, actor: 'system' },
      { ts: '2025-03-01T02:00:05.000Z', action: 'run.shadow.scored', run: 's2', data: { score: 0.5 }, actor: 'system' },
      // Not a number: ignored rather than counted as zero.
      { ts: '2025-03-01T02:00:06.000Z', action: 'run.shadow.scored', run: 's3', data: { score: 'n/a' }, actor: 'system' },
    ]);
    const r = await report(t, range('bucket=day'));
    expect(r.shadow).toMatchObject({ runs: 2, scored: 2, mean_score: 0.75 });
    expect(r.shadow.series[0]).toEqual({ bucket: DAY1, runs: 2, scored: 2, mean_score: 0.75 });
    expect(r.shadow.series[1]).toEqual({ bucket: '2025-03-02T00:00:00.000Z', runs: 0, scored: 0, mean_score: null });
  });

  it('buckets by the hour for short ranges unless told otherwise', async () => {
    const t = await newTenant();
    await seedRuns(t.id, [{ status: 'succeeded', created: '2025-03-01T05:30:00.000Z', seconds: 1 }]);
    const r = await report(t, '/analytics?from=2025-03-01T04:15:00Z&to=2025-03-01T07:00:00Z');
    expect(r.range.bucket).toBe('hour');
    // The first bucket is the hour holding `from`.
    expect(r.runs.series.map((b) => [b.bucket.slice(11, 13), b.total])).toEqual([
      ['04', 0],
      ['05', 1],
      ['06', 0],
    ]);
  });

  it('shows a tenant only its own runs and audit entries', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await seedRuns(a.id, [{ runbook: 'mine', status: 'succeeded', created: '2025-03-01T01:00:00.000Z', seconds: 3, cost: 1, tokens: 7 }]);
    await seedRuns(b.id, [
      { runbook: 'theirs', status: 'failed', created: '2025-03-01T01:00:00.000Z', seconds: 9, cost: 5, tokens: 99 },
      { runbook: 'theirs', status: 'running', created: '2025-03-01T01:00:00.000Z' },
    ]);
    await seedAudit(b.id, [
      { ts: '2025-03-01T10:00:00.000Z', action: 'run.step.awaiting_approval', run: 'rb', data: { step: 's' }, actor: 'system' },
      { ts: '2025-03-01T10:00:01.000Z', action: 'run.step.approved', run: 'rb', data: { step: 's' } },
    ]);
    const r = await report(a, range('bucket=day'));
    expect(r.runs.total).toBe(1);
    expect(r.top_runbooks.map((x) => x.runbook)).toEqual(['mine']);
    expect(r.usage).toMatchObject({ tokens: 7, cost_usd: 1 });
    expect(r.duration).toMatchObject({ ended: 1, p50_ms: 3000 });
    expect(r.approvals.requested).toBe(0);
    const summary = await json<{ active_runs: number }>(api('/analytics/summary', { key: a.keys.viewer }));
    expect(summary.active_runs).toBe(0);
  });

  it('rejects a bad range with the field and the reason', async () => {
    const t = await newTenant();
    const cases: [string, string, RegExp][] = [
      ['/analytics?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z', 'query.from', /before/],
      ['/analytics?from=yesterday', 'query.from', /./],
      ['/analytics?from=2024-01-01T00:00:00Z&to=2025-03-01T00:00:00Z', 'query.from', /366 days/],
      ['/analytics?from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z&bucket=hour', 'query.bucket', /day/],
      ['/analytics?bucket=minute', 'query.bucket', /./],
      ['/analytics?top=500', 'query.top', /./],
    ];
    for (const [path, field, reason] of cases) {
      const res = await api(path, { key: t.keys.viewer });
      const body = await json<{ error: { code: string; details: { path: string; message: string }[] } }>(res);
      expect(res.status, path).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      const detail = body.error.details.find((d) => d.path === field);
      expect(detail, `${path}: ${JSON.stringify(body)}`).toBeDefined();
      expect(detail!.message).toMatch(reason);
    }
  });

  it('needs credentials', async () => {
    expect((await api('/analytics')).status).toBe(401);
    expect((await api('/analytics/summary')).status).toBe(401);
  });
});

const APPROVAL_RB = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: analytics-approval }
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
      approval: required
`;

describe('GET /analytics/summary and a real run', () => {
  it('follows a run through its approval: in flight and waiting, then answered and succeeded', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, APPROVAL_RB);
    const id = await startRun(t.keys.sre, { runbook: 'analytics-approval', inputs: { node: 'n-1' } });
    await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);

    const waiting = await json<{ active_runs: number; awaiting_approval: { runs: number; steps: number }; active: { id: string; status: string }[]; today: { runs: number } }>(
      api('/analytics/summary', { key: t.keys.viewer }),
    );
    expect(waiting.active_runs).toBe(1);
    expect(waiting.awaiting_approval).toEqual({ runs: 1, steps: 1 });
    expect(waiting.active.map((r) => [r.id, r.status])).toEqual([[id, 'awaiting_approval']]);
    expect(waiting.today.runs).toBe(1);

    const approved = await api(`/runs/${id}/steps/cordon/approve`, { method: 'POST', key: t.keys.admin, json: {} });
    expect(approved.status, await approved.clone().text()).toBe(200);
    await driveUntil(t.id, t.keys.sre, id, ['succeeded']);

    const done = await json<{ active_runs: number; awaiting_approval: { steps: number }; failed_24h: number; today: { runs: number; succeeded: number } }>(
      api('/analytics/summary', { key: t.keys.viewer }),
    );
    expect(done).toMatchObject({ active_runs: 0, awaiting_approval: { steps: 0 }, failed_24h: 0, today: { runs: 1, succeeded: 1 } });

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const r = await report(t, `/analytics?from=${from}&to=${to}`);
    expect(r.range.bucket).toBe('hour');
    expect(r.runs.by_status.succeeded).toBe(1);
    expect(r.duration.ended).toBe(1);
    expect(r.duration.p50_ms).toBeGreaterThanOrEqual(0);
    expect(r.approvals).toMatchObject({ requested: 1, answered: 1 });
    expect(r.approvals.p50_wait_ms).toBeGreaterThanOrEqual(0);
    expect(r.top_runbooks).toEqual([expect.objectContaining({ runbook: 'analytics-approval', runs: 1, succeeded: 1 })]);
  });

  it('counts failures of the last 24 hours and today\'s spend', async () => {
    const t = await newTenant();
    const now = Date.now();
    const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
    await seedRuns(t.id, [
      { status: 'failed', created: iso(3_600_000), seconds: 10, cost: 0.1 },
      { status: 'denied', created: iso(2 * 3_600_000), seconds: 1 },
      { status: 'failed', created: iso(3 * 86_400_000), seconds: 1 },
      { status: 'running', created: iso(60_000) },
    ]);
    const s = await json<{ active_runs: number; failed_24h: number; recent_failures: { status: string }[]; today: { cost_usd: number } }>(api('/analytics/summary', { key: t.keys.viewer }));
    expect(s.active_runs).toBe(1);
    expect(s.failed_24h).toBe(2);
    expect(s.recent_failures.map((r) => r.status)).toEqual(['failed', 'denied']);
    // Runs of the last hours may fall before 00:00 UTC; today's figure only counts those after it.
    const dayStart = new Date(Math.floor(now / 86_400_000) * 86_400_000).getTime();
    expect(s.today.cost_usd).toBeCloseTo(now - 3_600_000 >= dayStart ? 0.1 : 0, 10);
  });
});
