import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import strictProduction from '../policies/strict-production.yaml';
import nodeNotReady from '../runbooks/node-not-ready.yaml';
import scaleUpUnderLoad from '../runbooks/scale-up-under-load.yaml';
import { api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

interface Approval {
  roles: string[];
  count: number;
  distinct_from_requester: boolean;
  expires_in?: string;
}

interface Change {
  run_id: string;
  runbook: string;
  step_id: string;
  tool: string;
  before: { effect: string; reasons: { kind: string; name: string; effect: string }[]; approval?: Approval };
  after: { effect: string; reasons: { kind: string; name: string; effect: string }[]; approval?: Approval };
}

interface Simulation {
  policy: { id: string; name: string; version: number };
  runs_considered: number;
  steps_considered: number;
  steps_skipped: number;
  changed: Change[];
  truncated: boolean;
  summary: Record<string, number>;
}

async function savePolicy(key: string, yaml: string): Promise<string> {
  const res = await api('/policies', { method: 'POST', key, yaml });
  const body = await json<{ id: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

/** A dry run of a runbook, driven to its end, so every step has a recorded decision in D1. */
async function dryRun(t: TestTenant, body: Record<string, unknown>): Promise<string> {
  const id = await startRun(t.keys.sre, { ...body, mode: 'dry_run' });
  const run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed', 'denied']);
  expect(run.status, JSON.stringify(run.steps.map((s) => [s.id, s.status, s.error]))).toBe('succeeded');
  return id;
}

function simulate(key: string, policyId: string, body: unknown = {}) {
  return api(`/policies/${policyId}/simulate`, { method: 'POST', key, json: body });
}

describe('POST /policies/{id}/simulate', () => {
  it('replays past runs under a stricter draft and lists the decisions that change, naming the draft\'s rules', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, nodeNotReady);
    await createRunbook(t.keys.sre, scaleUpUnderLoad);
    // The runs are decided outside business hours (another weekday only), whatever the test's clock.
    const otherDay = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 3) % 7];
    const hours = await api('/settings', { method: 'PUT', key: t.keys.admin, json: { business_hours: { days: [otherDay], start: '00:00', end: '24:00' } } });
    expect(hours.status).toBe(200);
    // Under the default policy (active): an SRE's node drain in prod, a staging scale-up, and a
    // node drain whose context does not name its environment. None of the clusters is labelled,
    // so strict-production treats every one of them as production (the context is only a claim).
    const prodRun = await dryRun(t, { runbook: 'node-not-ready', inputs: { node: 'node-7' }, context: { environment: 'prod' } });
    const stagingRun = await dryRun(t, {
      runbook: 'scale-up-under-load',
      inputs: { namespace: 'shop', deployment: 'api', health_url: 'https://shop.example.com/healthz' },
      context: { environment: 'staging', business_hours: true },
    });
    const bareRun = await dryRun(t, { runbook: 'node-not-ready', inputs: { node: 'node-8' } });
    const draft = await savePolicy(t.keys.admin, strictProduction);

    const res = await simulate(t.keys.sre, draft, { runs: 10 });
    const sim = await json<Simulation>(res);
    expect(res.status, JSON.stringify(sim)).toBe(200);
    expect(sim.policy).toEqual({ id: draft, name: 'strict-production', version: 1 });
    expect(sim.runs_considered).toBe(3);
    // node-not-ready: ack is skipped by its `if` (no decision); cordon, drain, ticket were decided.
    // scale-up-under-load: before, scale, settle, health were decided; note is skipped by its `if`.
    expect(sim.steps_considered).toBe(10);
    expect(sim.steps_skipped).toBe(3);

    // Newest run first.
    expect(sim.changed.map((c) => [c.run_id, c.step_id, `${c.before.effect}→${c.after.effect}`])).toEqual([
      [bareRun, 'cordon', 'allow→require_approval'],
      [bareRun, 'drain', 'require_approval→deny'],
      [bareRun, 'ticket', 'allow→require_approval'],
      [stagingRun, 'scale', 'allow→require_approval'],
      [prodRun, 'cordon', 'require_approval→require_approval'],
      [prodRun, 'drain', 'require_approval→deny'],
      [prodRun, 'ticket', 'require_approval→require_approval'],
    ]);
    expect(sim.summary).toEqual({ 'allow→require_approval': 3, 'require_approval→deny': 2, 'require_approval→require_approval': 2 });
    expect(sim.truncated).toBe(false);

    const named = (c: Change, effect: string) => c.after.reasons.filter((r) => r.effect === effect).map((r) => r.name);
    const [bareCordon, bareDrain, , , prodCordon] = sim.changed;
    expect(bareCordon).toMatchObject({ runbook: 'node-not-ready', tool: 'k8s.cordon_node', before: { reasons: [{ kind: 'role', name: 'sre', effect: 'allow' }] } });
    expect(named(bareCordon!, 'require_approval')).toEqual(['prod-writes-need-two-sres']);
    expect(bareCordon!.after.approval).toMatchObject({ roles: ['sre'], count: 2, distinct_from_requester: true, expires_in: '15m' });
    expect(named(bareDrain!, 'deny')).toEqual(['high-risk-outside-business-hours']);
    // In prod the default policy already asked for one approval; the draft asks two SREs instead.
    expect(prodCordon!.before.approval).toMatchObject({ roles: ['sre', 'admin'], count: 1 });
    expect(prodCordon!.after.approval).toMatchObject({ roles: ['sre'], count: 2 });
    expect(named(prodCordon!, 'require_approval')).toEqual(['prod-writes-need-two-sres']);
  });

  it('the policy the runs were decided under changes nothing; a looser draft shows the opposite flips', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, nodeNotReady);
    await dryRun(t, { runbook: 'node-not-ready', inputs: { node: 'node-1' }, context: { environment: 'prod' } });
    const [active] = (await json<{ items: { id: string; active: boolean }[] }>(api('/policies', { key: t.keys.sre }))).items.filter((p) => p.active);
    const same = await json<Simulation>(simulate(t.keys.sre, active!.id));
    expect(same).toMatchObject({ runs_considered: 1, steps_considered: 3, changed: [], summary: {} });

    const looser = await savePolicy(t.keys.admin, defaultPolicy.replace(/  rules:[\s\S]*$/, '  rules: []\n'));
    const sim = await json<Simulation>(simulate(t.keys.sre, looser));
    // The prod-writes approvals disappear; the drain keeps the runbook's own `approval: required`,
    // with the default approvers (never the requester) and no expiry.
    expect(sim.changed.map((c) => [c.step_id, `${c.before.effect}→${c.after.effect}`])).toEqual([
      ['cordon', 'require_approval→allow'],
      ['drain', 'require_approval→require_approval'],
      ['ticket', 'require_approval→allow'],
    ]);
    const drain = sim.changed[1]!;
    expect(drain.before.approval).toMatchObject({ distinct_from_requester: true, expires_in: '30m' });
    expect(drain.after.approval).toEqual({ roles: ['sre', 'admin'], count: 1, distinct_from_requester: true });
  });

  it('replays only the last N runs, newest first, and bounds N', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, nodeNotReady);
    await dryRun(t, { runbook: 'node-not-ready', inputs: { node: 'node-1' }, context: { environment: 'prod' } });
    const newest = await dryRun(t, { runbook: 'node-not-ready', inputs: { node: 'node-2' }, context: { environment: 'prod' } });
    const draft = await savePolicy(t.keys.admin, strictProduction);

    const one = await json<Simulation>(simulate(t.keys.sre, draft, { runs: 1 }));
    expect(one.runs_considered).toBe(1);
    expect(new Set(one.changed.map((c) => c.run_id))).toEqual(new Set([newest]));
    expect((await json<Simulation>(simulate(t.keys.sre, draft))).runs_considered).toBe(2);

    for (const runs of [0, 501, 2.5, 'all']) {
      const res = await simulate(t.keys.sre, draft, { runs });
      expect(res.status, String(runs)).toBe(400);
      expect((await json<{ error: { details: { path: string }[] } }>(res)).error.details[0]!.path).toBe('runs');
    }
  });

  it('a tenant without runs gets an empty simulation; other tenants\' runs are never replayed', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await createRunbook(b.keys.sre, nodeNotReady);
    await dryRun(b, { runbook: 'node-not-ready', inputs: { node: 'node-1' }, context: { environment: 'prod' } });
    const draft = await savePolicy(a.keys.admin, strictProduction);
    expect(await json<Simulation>(simulate(a.keys.sre, draft))).toMatchObject({ runs_considered: 0, steps_considered: 0, steps_skipped: 0, changed: [], summary: {} });
  });

  it('another tenant\'s policy → 404', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await savePolicy(b.keys.admin, strictProduction);
    expect((await simulate(a.keys.sre, theirs)).status).toBe(404);
    expect((await simulate(a.keys.admin, 'pol_does_not_exist')).status).toBe(404);
  });

  it('needs sre or admin (viewer, operator → 403), and is audited', async () => {
    const t = await newTenant();
    const draft = await savePolicy(t.keys.admin, strictProduction);
    for (const role of ['viewer', 'operator'] as const) expect((await simulate(t.keys[role], draft)).status).toBe(403);
    for (const role of ['sre', 'admin'] as const) expect((await simulate(t.keys[role], draft)).status).toBe(200);
    // No body at all: the defaults apply.
    expect((await api(`/policies/${draft}/simulate`, { method: 'POST', key: t.keys.sre })).status).toBe(200);
    const audit = await json<{ items: { action: string; resource: { type: string; id: string }; data: Record<string, unknown> }[] }>(
      api('/audit?action=policy.simulated', { key: t.keys.admin }),
    );
    expect(audit.items).toHaveLength(3);
    expect(audit.items[0]).toMatchObject({ resource: { type: 'policy', id: draft }, data: { name: 'strict-production', version: 1, runs_requested: 50, runs_considered: 0, changed: 0 } });
  });
});
