// Three holes of one kind — an action taken without the guardrail that governs it: undoing a run
// on cancel without a policy decision, a live run quietly simulating a cluster it does not know,
// and a tenant lifting limits on what all tenants share.
import { afterEach, describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import { api, json, newTenant, setEnv, undoAll, type TestTenant } from './helpers';
import { createRunbook, driveUntil, getRun, startRun, statusOf } from './run-helpers';

afterEach(undoAll);

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 6)}`;

async function activate(t: TestTenant, yaml: string): Promise<void> {
  const created = await json<{ id: string }>(api('/policies', { method: 'POST', key: t.keys.admin, yaml }));
  expect((await api(`/policies/${created.id}/activate`, { method: 'POST', key: t.keys.admin })).status).toBe(200);
}

const CORDON_THEN_TICKET = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: cordon-then-ticket }
spec:
  goal: Take a node out of scheduling, then record it once someone agrees.
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: sim-eu, node: node-3 }
    - id: ticket
      tool: jira.create_issue
      approval: required
      with: { project: OPS, summary: Node cordoned }
`;

describe('L4: cancel with compensate decides each undo with the canceller as actor', () => {
  it('an operator cannot undo through a cancel what the policy does not let them do; an sre can', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, CORDON_THEN_TICKET);
    const id = await startRun(t.keys.sre, { runbook: 'cordon-then-ticket' });
    await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);

    // Under the default policy an operator may not call k8s.uncordon_node, so they may not have it called for them.
    const refused = await api(`/runs/${id}/cancel`, { method: 'POST', key: t.keys.operator, json: { compensate: true } });
    const body = await json<{ error: { code: string; message: string } }>(refused);
    expect(refused.status).toBe(403);
    expect(body.error.message).toMatch(/undoing cordon \(k8s\.uncordon_node\) is denied for operator/);
    // Nothing changed: the run still waits, the cordon still stands.
    const unchanged = await getRun(t.keys.sre, id);
    expect(unchanged.status).toBe('awaiting_approval');
    expect(statusOf(unchanged)).toMatchObject({ cordon: 'succeeded', ticket: 'awaiting_approval' });

    // Without compensate the operator may still stop it; an sre's cancel with compensate undoes it.
    const ok = await api(`/runs/${id}/cancel`, { method: 'POST', key: t.keys.sre, json: { compensate: true } });
    expect(ok.status).toBe(200);
    const run = await driveUntil(t.id, t.keys.sre, id, ['cancelled']);
    expect(statusOf(run)).toMatchObject({ cordon: 'compensated', ticket: 'skipped' });
  });
});

describe('L5: in a live run, a cluster that is not registered, or revoked, fails', () => {
  const getNode = (t: TestTenant, cluster: string) =>
    json<{ status: string; step: { status: string; error?: string; integration_mode?: string } }>(
      api('/tools/invoke', { method: 'POST', key: t.keys.operator, json: { tool: 'k8s.get_node', args: { cluster, node: 'node-1' } } }),
    );

  it('an unregistered cluster in a tenant with registered ones: the call fails, it is not simulated', async () => {
    const t = await newTenant();
    expect((await api('/clusters', { method: 'POST', key: t.keys.admin, json: { name: unique('real') } })).status).toBe(201);
    const out = await getNode(t, unique('typo'));
    expect(out.status).toBe('failed');
    expect(out.step).toMatchObject({ status: 'failed', integration_mode: 'live', error: expect.stringMatching(/is not registered for this tenant \(or was revoked\)/) });
  });

  it('a revoked cluster, even the only one the tenant had: the call fails, it is not simulated', async () => {
    const t = await newTenant();
    const name = unique('gone');
    expect((await api('/clusters', { method: 'POST', key: t.keys.admin, json: { name } })).status).toBe(201);
    expect((await api(`/clusters/${name}`, { method: 'DELETE', key: t.keys.admin })).status).toBe(200);
    const out = await getNode(t, name);
    expect(out.status).toBe('failed');
    expect(out.step.error).toMatch(/not registered for this tenant \(or was revoked\)/);
  });

  it('a tenant with nothing live still simulates: a new install works at once', async () => {
    const t = await newTenant();
    expect((await getNode(t, 'demo-eu')).step).toMatchObject({ status: 'succeeded', integration_mode: 'simulated' });
  });
});

describe('L10: platform ceilings on shared resources', () => {
  it('a tenant rate limit above the platform ceiling is refused, naming the field', async () => {
    const t = await newTenant();
    const res = await api('/settings', { method: 'PUT', key: t.keys.admin, json: { rate_limit: { requests_per_minute: 100_000 } } });
    const body = await json<{ error: { details: { path: string; message: string }[] } }>(res);
    expect(res.status).toBe(400);
    expect(body.error.details.map((d) => d.path)).toEqual(['rate_limit.requests_per_minute', 'rate_limit.burst']);
    expect((await api('/settings', { method: 'PUT', key: t.keys.admin, json: { rate_limit: { requests_per_minute: 1200, burst: 200 } } })).status).toBe(200);
  });

  it("a policy's runs-per-hour budget cannot lift the platform's ceiling", async () => {
    setEnv({ PLATFORM_MAX_RUNS_PER_HOUR: '2' });
    const t = await newTenant();
    await activate(t, defaultPolicy.replace('max_runs_per_hour: 120', 'max_runs_per_hour: 100000'));
    await createRunbook(t.keys.sre, CORDON_THEN_TICKET);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startRun(t.keys.sre, { runbook: 'cordon-then-ticket' }));
    const third = await driveUntil(t.id, t.keys.sre, ids[2]!, ['failed', 'awaiting_approval']);
    expect(third.status).toBe('failed');
    expect(third.reason).toBe('budget_exceeded: max_runs_per_hour 2 reached');
  });

  it('dry runs do not take the slots of runs that act', async () => {
    const t = await newTenant();
    await activate(t, defaultPolicy.replace('max_runs_per_hour: 120', 'max_runs_per_hour: 2'));
    await createRunbook(t.keys.sre, CORDON_THEN_TICKET);
    for (let i = 0; i < 2; i++) await startRun(t.keys.operator, { runbook: 'cordon-then-ticket', mode: 'dry_run' });
    const rehearsal = await startRun(t.keys.operator, { runbook: 'cordon-then-ticket', mode: 'dry_run' });
    expect((await driveUntil(t.id, t.keys.sre, rehearsal, ['failed', 'succeeded', 'denied'])).reason).toBe('budget_exceeded: max_runs_per_hour 2 reached');
    const real = await startRun(t.keys.sre, { runbook: 'cordon-then-ticket' });
    expect((await driveUntil(t.id, t.keys.sre, real, ['failed', 'awaiting_approval'])).status).toBe('awaiting_approval');
  });
});
