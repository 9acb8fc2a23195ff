import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import { makeDb } from '../worker/db/client';
import { runs } from '../worker/db/schema';
import { api, json, newTenant } from './helpers';
import { createRunbook, driveUntil, fastForward, getRun, startRun, statusOf, stubFor } from './run-helpers';
import { runDurableObjectAlarm } from 'cloudflare:test';

async function activate(adminKey: string, yaml: string): Promise<void> {
  const created = await api('/policies', { method: 'POST', key: adminKey, yaml });
  const body = await json<{ id: string }>(created);
  expect(created.status, JSON.stringify(body)).toBe(201);
  expect((await api(`/policies/${body.id}/activate`, { method: 'POST', key: adminKey, json: {} })).status).toBe(200);
}

const cordonRunbook = (name: string, nodes: string[]) => `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: ${name} }
spec:
  steps:
${nodes.map((n) => `    - id: cordon-${n}\n      tool: k8s.cordon_node\n      with: { cluster: prod-eu, node: ${n} }`).join('\n')}
`;

const WAIT_THEN_CHANGES = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: wait-then-changes }
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-1 }
      on_failure: compensate
    - id: pause
      tool: core.wait
      with: { duration: 10m }
    - id: scale
      tool: k8s.scale_deployment
      with: { cluster: prod-eu, namespace: web, name: api, replicas: 5 }
      on_failure: compensate
`;

async function auditActions(key: string, action: string) {
  return (await json<{ items: { action: string; data: { message?: string } }[] }>(api(`/audit?action=${action}`, { key }))).items;
}

/** Another run of the tenant, created today, that cost this much (as the LLM agents would have spent). */
async function spentToday(tenantId: string, usd: number): Promise<void> {
  await makeDb(env.DB).insert(runs).values({
    id: `run_spent_${Math.random().toString(36).slice(2)}`,
    tenantId,
    runbookId: 'rb_x',
    runbookName: 'earlier',
    runbookVersion: 1,
    status: 'succeeded',
    mode: 'execute',
    inputs: {},
    context: {},
    actorType: 'api_key',
    actorId: 'key_x',
    actorRole: 'sre',
    costUsd: usd,
  });
}

describe('per-tenant budgets', () => {
  it('max_cost_usd_per_day reached before a run starts: failed budget_exceeded, every step skipped', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max_cost_usd_per_day: 50', 'max_cost_usd_per_day: 1'));
    await spentToday(t.id, 1.25);
    await createRunbook(t.keys.sre, WAIT_THEN_CHANGES);
    const id = await startRun(t.keys.sre, { runbook: 'wait-then-changes' });
    const run = await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    expect(run.status).toBe('failed');
    expect(run.reason).toBe('budget_exceeded: max_cost_usd_per_day 1 reached (1.25 USD spent today, UTC)');
    expect(statusOf(run)).toEqual({ cordon: 'skipped', pause: 'skipped', scale: 'skipped' });
    expect(await auditActions(t.keys.viewer, 'run.budget_exceeded')).toHaveLength(1);
  });

  it('a tenant budget overrun mid-run stops the run before its next step and compensates what was done', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max_cost_usd_per_day: 50', 'max_cost_usd_per_day: 1'));
    await createRunbook(t.keys.sre, WAIT_THEN_CHANGES);
    const id = await startRun(t.keys.sre, { runbook: 'wait-then-changes' });
    const stub = stubFor(t.id, id);
    // Run until the durable sleep: cordon done, pause running.
    for (let i = 0; i < 10 && (await getRun(t.keys.sre, id)).steps[1]!.status !== 'running'; i++) await runDurableObjectAlarm(stub);
    expect(statusOf(await getRun(t.keys.sre, id))).toMatchObject({ cordon: 'succeeded', pause: 'running', scale: 'pending' });
    // Meanwhile other runs of the tenant spend the day's budget.
    await spentToday(t.id, 3);
    await fastForward(stub);
    const run = await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/^budget_exceeded: max_cost_usd_per_day 1 reached/);
    expect(statusOf(run)).toEqual({ cordon: 'compensated', pause: 'succeeded', scale: 'skipped' });
  });

  it('max_runs_per_hour: runs beyond the budget are recorded as failed, and refused runs do not use up the window', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max_runs_per_hour: 120', 'max_runs_per_hour: 2'));
    await createRunbook(t.keys.sre, cordonRunbook('one-cordon', ['node-1']));
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await startRun(t.keys.sre, { runbook: 'one-cordon', mode: 'dry_run' }));
    const ended = [];
    for (const id of ids) ended.push(await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']));
    expect(ended.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'failed', 'failed']);
    expect(ended[2]!.reason).toBe('budget_exceeded: max_runs_per_hour 2 reached');
    expect(statusOf(ended[3]!)).toEqual({ 'cordon-node-1': 'skipped' });
    const listed = await json<{ items: { id: string; status: string; reason?: string | null }[] }>(api('/runs', { key: t.keys.viewer }));
    expect(listed.items.filter((r) => r.status === 'failed')).toHaveLength(2);
  });

  it('max_runs_per_hour holds under concurrent starts: exactly the budget gets through', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max_runs_per_hour: 120', 'max_runs_per_hour: 3'));
    await createRunbook(t.keys.sre, cordonRunbook('one-cordon', ['node-1']));
    const ids = await Promise.all(Array.from({ length: 8 }, () => startRun(t.keys.sre, { runbook: 'one-cordon', mode: 'dry_run' })));
    const ended = await Promise.all(ids.map((id) => driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded'])));
    expect(ended.filter((r) => r.status === 'succeeded')).toHaveLength(3);
    expect(ended.filter((r) => r.reason === 'budget_exceeded: max_runs_per_hour 3 reached')).toHaveLength(5);
  });
});

describe('blast-radius limits', () => {
  it('a second run hits the tenant-wide limit: its call is denied, naming the limit; the first run was unaffected', async () => {
    const t = await newTenant();
    // Default policy: k8s.drain_node and k8s.cordon_node, at most 2 per hour across the tenant.
    await createRunbook(t.keys.sre, cordonRunbook('cordon-two', ['node-1', 'node-2']));
    await createRunbook(t.keys.sre, cordonRunbook('cordon-one-more', ['node-3']));
    const first = await driveUntil(t.id, t.keys.sre, await startRun(t.keys.sre, { runbook: 'cordon-two' }), ['failed', 'succeeded', 'denied']);
    expect(first.status).toBe('succeeded');

    // A dry run shows the denial without taking a slot.
    const dry = await driveUntil(t.id, t.keys.sre, await startRun(t.keys.sre, { runbook: 'cordon-one-more', mode: 'dry_run' }), ['failed', 'succeeded', 'denied']);
    expect(dry.steps[0]!.decision?.reasons).toContainEqual(expect.objectContaining({ kind: 'limit', effect: 'deny' }));

    const second = await driveUntil(t.id, t.keys.sre, await startRun(t.keys.sre, { runbook: 'cordon-one-more' }), ['failed', 'succeeded', 'denied']);
    expect(second.status).toBe('denied');
    const step = second.steps[0]!;
    expect(step.status).toBe('denied');
    expect(step.attempts).toBe(0);
    expect(step.error).toBe('Blast-radius limit "k8s.drain_node, k8s.cordon_node max 2 per 1h" reached: 2 of 2 per 1h used');
    expect(step.decision?.effect).toBe('deny');
    expect(step.decision?.reasons.find((r) => r.kind === 'limit')?.name).toBe('k8s.drain_node, k8s.cordon_node max 2 per 1h');
  });

  it('concurrent runs cannot both take the last slot', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max: 2', 'max: 1').replace('      per: 1h', '      per: 1h\n      name: one-node-at-a-time'));
    await createRunbook(t.keys.sre, cordonRunbook('cordon-a', ['node-a']));
    await createRunbook(t.keys.sre, cordonRunbook('cordon-b', ['node-b']));
    const [a, b] = await Promise.all([startRun(t.keys.sre, { runbook: 'cordon-a' }), startRun(t.keys.sre, { runbook: 'cordon-b' })]);
    const ended = await Promise.all([a!, b!].map((id) => driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded', 'denied'])));
    expect(ended.map((r) => r.status).sort()).toEqual(['denied', 'succeeded']);
    const denied = ended.find((r) => r.status === 'denied')!;
    expect(denied.steps[0]!.error).toContain('"one-node-at-a-time" reached: 1 of 1 per 1h used');
  });
});

describe('POST /tools/plan with the tenant counters', () => {
  it('answers deny naming the blast-radius limit once the window is full', async () => {
    const t = await newTenant();
    const plan = () =>
      json<{ effect: string; reasons: { kind: string; name: string }[] }>(
        api('/tools/plan', { method: 'POST', key: t.keys.sre, json: { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-9' } } }),
      );
    expect((await plan()).effect).toBe('allow');
    await createRunbook(t.keys.sre, cordonRunbook('cordon-two', ['node-1', 'node-2']));
    expect((await driveUntil(t.id, t.keys.sre, await startRun(t.keys.sre, { runbook: 'cordon-two' }), ['succeeded', 'failed'])).status).toBe('succeeded');
    const after = await plan();
    expect(after.effect).toBe('deny');
    expect(after.reasons).toContainEqual(expect.objectContaining({ kind: 'limit', name: 'k8s.drain_node, k8s.cordon_node max 2 per 1h' }));
  });
});

describe('manage comes from the active policy', () => {
  it('a policy can give sre the manage right; keys above one\'s own role cannot be minted', async () => {
    const t = await newTenant();
    expect((await api('/keys', { key: t.keys.sre })).status).toBe(403);
    await activate(t.keys.admin, defaultPolicy.replace('sre:      { run: true, approve: true, tools: ["*"] }', 'sre:      { run: true, approve: true, manage: true, tools: ["*"] }'));
    expect((await api('/keys', { key: t.keys.sre })).status).toBe(200);
    const minted = await api('/keys', { method: 'POST', key: t.keys.sre, json: { name: 'escalate', role: 'admin' } });
    expect(minted.status).toBe(403);
    expect((await json<{ error: { message: string } }>(minted)).error.message).toContain('above its own');
    expect((await api('/keys', { method: 'POST', key: t.keys.sre, json: { name: 'peer', role: 'sre' } })).status).toBe(201);
  });

  it('activating a policy that would take manage from the caller is refused (no lock-out)', async () => {
    const t = await newTenant();
    const created = await api('/policies', { method: 'POST', key: t.keys.admin, yaml: defaultPolicy.replace('admin:    { run: true, approve: true, manage: true, tools: ["*"] }', 'admin:    { run: true, approve: true, tools: ["*"] }') });
    expect(created.status).toBe(201);
    const { id } = await json<{ id: string }>(created);
    const res = await api(`/policies/${id}/activate`, { method: 'POST', key: t.keys.admin, json: {} });
    expect(res.status).toBe(409);
    expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(/lock you out/);
    expect((await api('/keys', { key: t.keys.admin })).status).toBe(200);
  });
});
