import { OpenAPIHono } from '@hono/zod-openapi';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../worker/auth/middleware';
import { makeDb } from '../worker/db/client';
import type { AppEnv } from '../worker/env';
import { handleError } from '../worker/lib/errors';
import { evalRoutes } from '../worker/routes/evals';
import { shadowRoutes } from '../worker/routes/shadow';
import type { ShadowReport } from '../worker/shadow/report';
import { prepareShadow, shadowHook } from '../worker/shadow/hook';
import { recordFinalScore } from '../worker/shadow/store';
import type { RunView } from '../worker/runs/types';
import { BASE, api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil, startRun, stubFor } from './run-helpers';

/*
 * `GET /runs/{id}/shadow`, the shadow hook of `POST /runs`, and the evaluation reports API.
 *
 * Until worker/app.ts mounts worker/routes/shadow.ts and worker/routes/evals.ts, this file serves
 * them the way app.ts serves every module (authentication, the one error handler, /api/v1); runs
 * themselves are created through the real Worker. Once mounted, `call` can be `api`.
 */
/** As app.ts mounts a module: typed loosely, since the merged route types grow too large for tsc. */
function mount(app: OpenAPIHono<AppEnv>, sub: unknown): void {
  app.route('/', sub as OpenAPIHono<AppEnv>);
}

function testApp() {
  const v1 = new OpenAPIHono<AppEnv>();
  v1.use('*', async (c, next) => {
    c.set('requestId', 'req_test');
    await next();
  });
  v1.onError(handleError);
  v1.use('*', authenticate);
  mount(v1, shadowRoutes);
  mount(v1, evalRoutes);
  const app = new OpenAPIHono<AppEnv>();
  app.route('/api/v1', v1);
  app.onError(handleError);
  return app;
}

const app = testApp();

function call(path: string, init: RequestInit & { key?: string; json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  return Promise.resolve(app.request(`${BASE}${path}`, { ...init, headers, body }, env));
}

// The tables the D1 migration adds once generated from worker/shadow/tables.ts (drizzle-kit's SQL);
// IF NOT EXISTS keeps this harmless after that.
beforeAll(async () => {
  await env.DB.batch([
    env.DB.prepare(
      "CREATE TABLE IF NOT EXISTS `shadow_expectations` (`tenant_id` text NOT NULL, `run_id` text NOT NULL, `expected` text NOT NULL, `reference_run` text, `score` real, `scored_at` text, `created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL, PRIMARY KEY(`tenant_id`, `run_id`))",
    ),
    env.DB.prepare(
      "CREATE TABLE IF NOT EXISTS `eval_reports` (`tenant_id` text NOT NULL, `id` text NOT NULL, `provider` text NOT NULL, `model` text NOT NULL, `cases` integer NOT NULL, `passed` integer NOT NULL, `metrics` text NOT NULL, `report` text NOT NULL, `digest` text NOT NULL, `created_at` text NOT NULL, `uploaded_by` text, `uploaded_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL, PRIMARY KEY(`tenant_id`, `id`))",
    ),
    env.DB.prepare('CREATE INDEX IF NOT EXISTS `eval_reports_tenant_created` ON `eval_reports` (`tenant_id`,`created_at`)'),
  ]);
});

const RUNBOOK = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: cordon-and-ticket }
spec:
  goal: Stop scheduling onto a broken node and say so.
  inputs:
    node: { type: string, required: true }
  steps:
    - id: inspect
      tool: k8s.get_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }} cordoned' }
`;

const END = ['succeeded', 'failed', 'denied', 'cancelled'];

/** A shadow run of the runbook with its expectation stored by the hook, driven to its end. */
async function shadowRun(t: TestTenant, expected: Array<{ tool: string; args?: Record<string, unknown> }>, context: Record<string, unknown> = {}) {
  const hook = await shadowHook(env, makeDb(env.DB), t.id, { mode: 'shadow', expected });
  const id = await startRun(t.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-7' }, context, mode: 'shadow' });
  await hook.save(id);
  await driveUntil(t.id, t.keys.sre, id, END);
  return id;
}

describe('GET /runs/{id}/shadow', () => {
  it('scores the agent plan against the expected one, step by step', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    const id = await shadowRun(t, [
      { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } },
      { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } },
      { tool: 'jira.create_issue', args: { project: 'OPS', summary: 'Node node-7 drained' } },
    ]);
    const res = await call(`/runs/${id}/shadow`, { key: t.keys.viewer });
    const report = await json<ShadowReport>(res);
    expect(res.status, JSON.stringify(report)).toBe(200);
    expect(report).toMatchObject({ run_id: id, run_status: 'succeeded', complete: true, source: 'expected', exact: false });
    expect(report.steps.map((s) => [s.kind, s.expected?.tool ?? null, s.actual?.id ?? null])).toEqual([
      ['extra', null, 'inspect'],
      ['matched', 'k8s.cordon_node', 'cordon'],
      ['missed', 'k8s.drain_node', null],
      ['changed', 'jira.create_issue', 'ticket'],
    ]);
    expect(report.steps[3]!.differences).toEqual([{ path: 'summary', kind: 'changed', expected: 'Node node-7 drained', actual: 'Node node-7 cordoned' }]);
    expect(report.summary).toMatchObject({ expected: 3, actual: 3, matched: 1, changed: 1, missed: 1, extra: 1 });
    expect(report.score).toBeGreaterThan(0.4);
    expect(report.score).toBeLessThan(0.7);
    expect(report.scoring.version).toBe('shadow-score/1');
  });

  it('lists the steps the policy denies as violations', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    const id = await shadowRun(t, [{ tool: 'k8s.get_node' }, { tool: 'k8s.cordon_node' }, { tool: 'jira.create_issue' }], { environment: 'prod', change_freeze: true });
    const report = await json<ShadowReport>(call(`/runs/${id}/shadow`, { key: t.keys.viewer }));
    // The default policy denies high-risk tools in a freeze; cordoning is medium risk, so nothing is denied here…
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ score: 1, exact: true });

    const freeze = `${RUNBOOK.replace('name: cordon-and-ticket', 'name: drain-in-freeze').replace('k8s.cordon_node', 'k8s.drain_node')}`;
    await createRunbook(t.keys.admin, freeze);
    const hook = await shadowHook(env, makeDb(env.DB), t.id, { mode: 'shadow', expected: [{ tool: 'k8s.get_node' }] });
    const run = await startRun(t.keys.sre, { runbook: 'drain-in-freeze', inputs: { node: 'node-7' }, context: { environment: 'prod', change_freeze: true }, mode: 'shadow' });
    await hook.save(run);
    await driveUntil(t.id, t.keys.sre, run, END);
    const denied = await json<ShadowReport>(call(`/runs/${run}/shadow`, { key: t.keys.viewer }));
    // …while a drain is: reported as a violation, and as a step nobody expected.
    expect(denied.run_status).toBe('denied');
    expect(denied.violations).toEqual([{ step: 'cordon', tool: 'k8s.drain_node', kind: 'denied', message: 'Change freeze in effect' }]);
    expect(denied.steps.filter((s) => s.kind === 'extra').map((s) => s.actual?.tool)).toEqual(['k8s.drain_node', 'jira.create_issue']);
  });

  it('records the final score once in the audit log, for the analytics trend', async () => {
    // Either the report is read, or the run object records the score when the run ends; once, either way.
    const t = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    const id = await shadowRun(t, [{ tool: 'k8s.get_node' }, { tool: 'k8s.cordon_node' }, { tool: 'jira.create_issue' }]);
    // The run object records it when the run ends; a read of the report later changes nothing.
    const view = (await stubFor(t.id, id).view()) as unknown as RunView;
    await recordFinalScore(env, makeDb(env.DB), t.id, view);
    await recordFinalScore(env, makeDb(env.DB), t.id, view);
    expect((await call(`/runs/${id}/shadow`, { key: t.keys.viewer })).status).toBe(200);
    expect((await call(`/runs/${id}/shadow`, { key: t.keys.viewer })).status).toBe(200);
    const audit = await json<{ items: Array<{ action: string; resource: { id: string }; data: { score: number; exact: boolean } }> }>(api(`/audit?action=run.shadow.scored`, { key: t.keys.viewer }));
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ resource: { id }, data: { score: 1, exact: true } });

    // Read first, then the run object: still one entry.
    const other = await shadowRun(t, [{ tool: 'k8s.cordon_node' }]);
    expect((await call(`/runs/${other}/shadow`, { key: t.keys.viewer })).status).toBe(200);
    await recordFinalScore(env, makeDb(env.DB), t.id, (await stubFor(t.id, other).view()) as unknown as RunView);
    const after = await json<{ items: Array<{ resource: { id: string }; data: { score: number } }> }>(api(`/audit?action=run.shadow.scored`, { key: t.keys.viewer }));
    expect(after.items.map((e) => [e.resource.id, e.data.score])).toEqual([
      [id, 1],
      [other, 0.4444], // 1 / (1 + 0.25 + 1): the read (a quarter) and the ticket (a change) were not expected
    ]);
  });

  it('answers 404 for a run of another tenant and for no run at all', async () => {
    const t = await newTenant();
    const other = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    const id = await shadowRun(t, [{ tool: 'k8s.cordon_node' }]);
    const res = await call(`/runs/${id}/shadow`, { key: other.keys.admin });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await call('/runs/run_nope/shadow', { key: t.keys.viewer })).status).toBe(404);
    expect((await call(`/runs/${id}/shadow`)).status).toBe(401);
  });

  it('answers 409 for a run that is not a shadow run, or has nothing to compare with', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    const dry = await startRun(t.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-1' }, mode: 'dry_run' });
    const res = await call(`/runs/${dry}/shadow`, { key: t.keys.viewer });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/is not a shadow run \(mode "dry_run"\)/);
    const bare = await startRun(t.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-1' }, mode: 'shadow' });
    const none = await call(`/runs/${bare}/shadow`, { key: t.keys.viewer });
    expect(none.status).toBe(409);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/without an expected plan or a reference run/);
  });
});

describe('the OpenAPI document', () => {
  it('describes the shadow and evaluation routes', () => {
    const v1 = new OpenAPIHono<AppEnv>();
    mount(v1, shadowRoutes);
    mount(v1, evalRoutes);
    const doc = v1.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    expect(Object.keys(doc.paths ?? {})).toEqual(['/runs/{id}/shadow', '/evals', '/evals/{id}']);
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(expect.arrayContaining(['ShadowReport', 'ShadowStep', 'EvalReportSummary', 'EvalReport']));
  });
});

describe('the shadow hook of POST /runs', () => {
  it('takes the expected plan from a finished reference run, with its exact arguments', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    const human = await startRun(t.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-4' }, mode: 'execute' });
    await driveUntil(t.id, t.keys.sre, human, END);
    const expectation = await prepareShadow(env, makeDb(env.DB), t.id, { mode: 'shadow', reference_run: human });
    expect(expectation).toEqual({
      source: 'reference_run',
      reference_run: human,
      expected: [
        { tool: 'k8s.get_node', args: { cluster: 'prod-eu', node: 'node-4' } },
        { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-4' } },
        { tool: 'jira.create_issue', args: { project: 'OPS', summary: 'Node node-4 cordoned', issue_type: 'Task' } },
      ],
    });

    // The agent's shadow run on another node: every call differs in its node.
    const hook = await shadowHook(env, makeDb(env.DB), t.id, { mode: 'shadow', reference_run: human });
    const id = await startRun(t.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-5' }, mode: 'shadow' });
    await hook.save(id);
    await driveUntil(t.id, t.keys.sre, id, END);
    const report = await json<ShadowReport>(call(`/runs/${id}/shadow`, { key: t.keys.viewer }));
    expect(report).toMatchObject({ source: 'reference_run', reference_run: human, exact: false, summary: { changed: 3 } });
  });

  it('refuses what cannot be compared, naming the field', async () => {
    const t = await newTenant();
    const other = await newTenant();
    await createRunbook(t.keys.admin, RUNBOOK);
    await createRunbook(other.keys.admin, RUNBOOK);
    const db = makeDb(env.DB);
    const refusal = async (req: Parameters<typeof prepareShadow>[3]) => {
      const err = await prepareShadow(env, db, t.id, req).then(() => undefined, (e: unknown) => e as { code: string; details: Array<{ path: string; message: string }> });
      expect(err?.code).toBe('validation_failed');
      return err!.details;
    };
    expect(await refusal({ mode: 'shadow', expected: [{ tool: 'k8s.drian_node' }] })).toEqual([{ path: 'expected[0].tool', message: 'unknown tool "k8s.drian_node"; did you mean "k8s.drain_node"?' }]);
    expect(await refusal({ mode: 'shadow', expected: [{ tool: 'k8s.drain_node', args: { nod: 'x' } }] })).toEqual([{ path: 'expected[0].args.nod', message: 'k8s.drain_node has no argument "nod"; did you mean "node"?' }]);
    expect((await refusal({ mode: 'dry_run', expected: [] }))[0]!.path).toBe('expected');
    expect((await refusal({ mode: 'shadow', expected: [], reference_run: 'run_x' }))[0]!.message).toBe('give either expected or reference_run, not both');
    expect(await refusal({ mode: 'shadow', reference_run: 'run_nope' })).toEqual([{ path: 'reference_run', message: 'no run "run_nope"' }]);
    // Another tenant's run does not exist here.
    const theirs = await startRun(other.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-1' }, mode: 'execute' });
    expect(await refusal({ mode: 'shadow', reference_run: theirs })).toEqual([{ path: 'reference_run', message: `no run "${theirs}"` }]);
    // A run that has not ended cannot say what was done.
    const waiting = await startRun(t.keys.sre, { runbook: 'cordon-and-ticket', inputs: { node: 'node-2' }, context: { environment: 'prod' }, mode: 'execute' });
    await driveUntil(t.id, t.keys.sre, waiting, ['awaiting_approval']);
    expect((await refusal({ mode: 'shadow', reference_run: waiting }))[0]!.message).toMatch(/has not ended \(awaiting_approval\)/);
    expect(await prepareShadow(env, db, t.id, { mode: 'shadow' })).toBeUndefined();
  });
});

describe('evaluation reports', () => {
  const report = (id: string, over: Record<string, unknown> = {}) => ({
    format: 'agentrunbook.eval/1',
    id,
    created_at: '2026-01-05T09:00:00.000Z',
    provider: 'stub',
    model: 'stub',
    k: 1,
    cases: 2,
    passed: 1,
    metrics: {
      pass_at_k: 0.5,
      pass_rate: 0.5,
      match_score: 0.9,
      exact_plan_rate: 0.5,
      hallucination_rate: 0,
      policy_violations: 0,
      attack_success_rate: 0,
      attack_success_rate_scripted: 0,
      latency_p50_ms: 3.1,
      latency_p95_ms: 9.9,
      tokens: 0,
      cost_usd: 0,
    },
    results: [
      { case: 'k8s-a', integration: 'k8s', tags: [], passed: true, score: 1, exact: true, attempts: [{ rep: 0, passed: true, score: 1, failures: [] }] },
      { case: 'jira-b', integration: 'jira', tags: ['injection'], passed: false, score: 0.8, exact: false, attempts: [{ rep: 0, passed: false, score: 0.8, failures: ['match score 0.8 is below 0.9'] }] },
    ],
    ...over,
  });

  it('stores an uploaded report (admin), lists it and serves it whole', async () => {
    const t = await newTenant();
    const created = await call('/evals', { method: 'POST', key: t.keys.admin, json: report('eval_20260105_stub_a') });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 'eval_20260105_stub_a', provider: 'stub', cases: 2, passed: 1, metrics: { match_score: 0.9 } });
    await call('/evals', { method: 'POST', key: t.keys.admin, json: report('eval_20260106_stub_b', { created_at: '2026-01-06T09:00:00.000Z' }) });

    const list = await json<{ items: Array<{ id: string; metrics: Record<string, number> }>; next_cursor: string | null }>(call('/evals', { key: t.keys.viewer }));
    expect(list.items.map((r) => r.id)).toEqual(['eval_20260106_stub_b', 'eval_20260105_stub_a']);
    expect(list.items[0]!.metrics.attack_success_rate_scripted).toBe(0);
    const page = await json<{ items: Array<{ id: string }>; next_cursor: string | null }>(call('/evals?limit=1', { key: t.keys.viewer }));
    expect(page.next_cursor).toBe('2026-01-06T09:00:00.000Z|eval_20260106_stub_b');
    const next = await json<{ items: Array<{ id: string }> }>(call(`/evals?limit=1&before=${encodeURIComponent(page.next_cursor!)}`, { key: t.keys.viewer }));
    expect(next.items.map((r) => r.id)).toEqual(['eval_20260105_stub_a']);

    const one = await json<{ results: Array<{ case: string; attempts: unknown[] }>; uploaded_by: string }>(call('/evals/eval_20260105_stub_a', { key: t.keys.viewer }));
    expect(one.results.map((r) => r.case)).toEqual(['k8s-a', 'jira-b']);
    expect(one.results[1]!.attempts).toEqual([{ rep: 0, passed: false, score: 0.8, failures: ['match score 0.8 is below 0.9'] }]);

    const audit = await json<{ items: Array<{ resource: { id: string } }> }>(api('/audit?action=eval.report.uploaded', { key: t.keys.viewer }));
    expect(audit.items.map((e) => e.resource.id)).toEqual(['eval_20260105_stub_a', 'eval_20260106_stub_b']);
  });

  it('takes the same report again as a no-op, and refuses other contents under its id', async () => {
    const t = await newTenant();
    expect((await call('/evals', { method: 'POST', key: t.keys.admin, json: report('eval_same') })).status).toBe(201);
    expect((await call('/evals', { method: 'POST', key: t.keys.admin, json: report('eval_same') })).status).toBe(200);
    const changed = await call('/evals', { method: 'POST', key: t.keys.admin, json: report('eval_same', { passed: 2 }) });
    expect(changed.status).toBe(409);
    expect(await changed.json()).toMatchObject({ error: { code: 'conflict' } });
  });

  it('lets only admins upload, and checks the report with the field at fault', async () => {
    const t = await newTenant();
    const sre = await call('/evals', { method: 'POST', key: t.keys.sre, json: report('eval_x') });
    expect(sre.status).toBe(403);
    const bad = await call('/evals', { method: 'POST', key: t.keys.admin, json: report('not-an-eval-id', { metrics: { pass_at_k: 2 } }) });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { details: Array<{ path: string }> } };
    expect(body.error.details.map((d) => d.path)).toEqual(expect.arrayContaining(['id', 'metrics.pass_at_k', 'metrics.match_score']));
  });

  it("keeps each tenant's reports to itself", async () => {
    const t = await newTenant();
    const other = await newTenant();
    await call('/evals', { method: 'POST', key: t.keys.admin, json: report('eval_private') });
    expect((await call('/evals/eval_private', { key: other.keys.admin })).status).toBe(404);
    expect((await json<{ items: unknown[] }>(call('/evals', { key: other.keys.admin }))).items).toEqual([]);
    // The same id in another tenant is another report.
    expect((await call('/evals', { method: 'POST', key: other.keys.admin, json: report('eval_private', { passed: 2 }) })).status).toBe(201);
  });
});
