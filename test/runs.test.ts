import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import { makeDb } from '../worker/db/client';
import { runs, toolCalls } from '../worker/db/schema';
import { startRun as startRunIn } from '../worker/runs/create';
import { MAX_RUNBOOK_STEPS } from '../worker/runbooks/schema';
import type { RunState } from '../worker/runs/types';
import { findRunbook, getRunbook } from '../worker/store/runbooks';
import { api, json, newTenant } from './helpers';
import type { OutboxCursors } from '../worker/runs/outbox';
import { createRunbook, driveUntil, getRun, startRun, statusOf, stubFor, editRun } from './run-helpers';

const DRAIN = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: drain-node }
spec:
  goal: Drain a node and leave a ticket.
  inputs:
    cluster: { type: string, default: prod-eu }
    node: { type: string, required: true }
    incident_id: { type: string }
  steps:
    - id: ack
      tool: pagerduty.acknowledge_incident
      if: 'has(inputs.incident_id)'
      with: { incident_id: '\${{ inputs.incident_id }}' }
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}' }
    - id: drain
      tool: k8s.drain_node
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}' }
      verify: { tool: k8s.get_node, expect: 'result.unschedulable == true' }
    - id: ticket
      tool: jira.create_issue
      with:
        project: OPS
        summary: 'Node \${{ inputs.node }} drained'
        description: 'Run \${{ run.id }}: \${{ steps.drain.result.evicted }} pods evicted.'
`;

const withApproval = DRAIN.replace('name: drain-node', 'name: drain-approved').replace(
  "      verify: { tool: k8s.get_node, expect: 'result.unschedulable == true' }",
  "      verify: { tool: k8s.get_node, expect: 'result.unschedulable == true' }\n      approval: required",
);

const FAILING = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: failing-check }
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: scale
      tool: k8s.scale_deployment
      with: { cluster: prod-eu, namespace: web, name: api, replicas: 6 }
    - id: check
      tool: core.http_check
      with: { url: 'https://status.example.com/status/503' }
      retry: { attempts: 3, backoff: 1s }
      on_failure: compensate
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: never reached }
`;

const WAITING = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: wait-between }
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-7 }
    - id: pause
      tool: core.wait
      with: { duration: 10m }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: after the wait }
`;

async function ledger(runId: string) {
  return makeDb(env.DB).select().from(toolCalls).where(eq(toolCalls.runId, runId));
}

describe('runs', () => {
  it('happy path: every step succeeds through its alarms, templates resolved, results chained', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, DRAIN);
    const id = await startRun(t.keys.operator, { runbook: 'drain-node', inputs: { node: 'node-1' } });
    const run = await driveUntil(t.id, t.keys.operator, id, ['succeeded', 'failed', 'denied']);
    // operator may not drain under the default policy (k8s.get_* only) → denied
    expect(run.status).toBe('denied');
    expect(statusOf(run)).toMatchObject({ ack: 'skipped', cordon: 'denied', drain: 'skipped', ticket: 'skipped' });
    expect(run.steps[1]!.decision!.reasons.map((r) => r.kind)).toContain('role');

    const id2 = await startRun(t.keys.sre, { runbook: 'drain-node', inputs: { node: 'node-1', incident_id: 'PABC123' } });
    const ok = await driveUntil(t.id, t.keys.sre, id2, ['succeeded', 'failed', 'denied']);
    expect(ok.status, JSON.stringify(ok.steps)).toBe('succeeded');
    expect(statusOf(ok)).toEqual({ ack: 'succeeded', cordon: 'succeeded', drain: 'succeeded', ticket: 'succeeded' });
    const drain = ok.steps.find((s) => s.id === 'drain')!;
    const evicted = (drain.result as { evicted: number }).evicted;
    expect(evicted).toBeGreaterThan(0);
    const ticket = ok.steps.find((s) => s.id === 'ticket')!;
    expect(ticket.args).toMatchObject({ project: 'OPS', summary: 'Node node-1 drained', description: `Run ${id2}: ${evicted} pods evicted.` });
    expect((ticket.result as { key: string }).key).toMatch(/^OPS-\d+$/);
    // Every tool call carried the key runId:stepId:attempt, and happened once.
    const calls = await ledger(id2);
    expect(calls.map((c) => c.idempotencyKey).sort()).toEqual(
      [`${id2}:ack:1`, `${id2}:cordon:1`, `${id2}:drain:1`, `${id2}:drain:1:verify`, `${id2}:ticket:1`].sort(),
    );
    // The D1 mirror lists it.
    const [row] = await makeDb(env.DB).select().from(runs).where(eq(runs.id, id2));
    expect(row!.status).toBe('succeeded');
  });

  it('dry_run: records decisions and operations, acts on nothing', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, withApproval);
    const id = await startRun(t.keys.sre, { runbook: 'drain-approved', inputs: { node: 'node-2' }, mode: 'dry_run' });
    const run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed', 'denied']);
    expect(run.status).toBe('succeeded');
    expect(statusOf(run)).toEqual({ ack: 'skipped', cordon: 'simulated', drain: 'simulated', ticket: 'simulated' });
    const drain = run.steps.find((s) => s.id === 'drain')!;
    expect(drain.decision!.effect).toBe('require_approval');
    expect(drain.operations!.length).toBeGreaterThan(0);
    expect((await ledger(id)).every((c) => c.idempotencyKey.endsWith(':dry_run'))).toBe(true);
  });

  it('approval gate: waits in awaiting_approval until approved, then succeeds', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, withApproval);
    const id = await startRun(t.keys.sre, { runbook: 'drain-approved', inputs: { node: 'node-3' } });
    const waiting = await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);
    expect(statusOf(waiting)).toMatchObject({ cordon: 'succeeded', drain: 'awaiting_approval', ticket: 'pending' });
    // More alarms change nothing: the run waits for a person.
    await runDurableObjectAlarm(stubFor(t.id, id));
    expect((await getRun(t.keys.sre, id)).status).toBe('awaiting_approval');
    expect((await ledger(id)).some((c) => c.stepId === 'drain')).toBe(false);

    const inbox = await json<{ items: { run_id: string; step_id: string }[] }>(api('/approvals', { key: t.keys.admin }));
    expect(inbox.items).toContainEqual(expect.objectContaining({ run_id: id, step_id: 'drain' }));
    // An operator may not approve (the policy gives operators no approve right).
    const denied = await api(`/runs/${id}/steps/drain/approve`, { method: 'POST', key: t.keys.operator, json: {} });
    expect(denied.status).toBe(403);

    const res = await api(`/runs/${id}/steps/drain/approve`, { method: 'POST', key: t.keys.admin, json: { comment: 'go' } });
    expect(res.status).toBe(200);
    const step = await json<{ status: string; approvals: unknown[] }>(res);
    expect(step.approvals).toHaveLength(1);
    const done = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    const again = await api(`/runs/${id}/steps/drain/approve`, { method: 'POST', key: t.keys.admin, json: {} });
    expect(again.status).toBe(409);
  });

  it('deny: the run ends denied and the earlier mutating steps are compensated', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, withApproval);
    const id = await startRun(t.keys.sre, { runbook: 'drain-approved', inputs: { node: 'node-4' } });
    await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);
    const res = await api(`/runs/${id}/steps/drain/deny`, { method: 'POST', key: t.keys.admin, json: { comment: 'not now' } });
    expect(res.status).toBe(200);
    const run = await driveUntil(t.id, t.keys.sre, id, ['denied', 'failed']);
    expect(run.status).toBe('denied');
    expect(statusOf(run)).toMatchObject({ cordon: 'compensated', drain: 'denied', ticket: 'skipped' });
    expect(run.reason).toContain('not now');
  });

  it('cancel: stops a waiting run; nothing further runs', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, withApproval);
    const id = await startRun(t.keys.sre, { runbook: 'drain-approved', inputs: { node: 'node-5' } });
    await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);
    const res = await api(`/runs/${id}/cancel`, { method: 'POST', key: t.keys.operator, json: {} });
    expect(res.status).toBe(200);
    const run = await json<{ status: string; steps: { id: string; status: string }[] }>(res);
    expect(run.status).toBe('cancelled');
    expect(run.steps.find((s) => s.id === 'drain')!.status).toBe('skipped');
    await runDurableObjectAlarm(stubFor(t.id, id));
    expect((await getRun(t.keys.sre, id)).status).toBe('cancelled');
    expect((await api(`/runs/${id}/cancel`, { method: 'POST', key: t.keys.operator, json: {} })).status).toBe(409);
  });

  it('a failing step is retried, then the completed mutating steps are compensated in reverse order', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, FAILING);
    const id = await startRun(t.keys.sre, { runbook: 'failing-check', inputs: { node: 'node-6' } });
    const run = await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    expect(run.status).toBe('failed');
    expect(statusOf(run)).toEqual({ cordon: 'compensated', scale: 'compensated', check: 'failed', ticket: 'skipped' });
    const check = run.steps.find((s) => s.id === 'check')!;
    expect(check.attempts).toBe(3);
    expect(check.error).toContain('503');
    const calls = (await ledger(id)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const keys = calls.map((c) => c.idempotencyKey);
    expect(keys).toEqual(expect.arrayContaining([`${id}:check:1`, `${id}:check:2`, `${id}:check:3`]));
    // Each compensation attempt has its own key (a retry after a failure is a new delivery).
    expect(keys.filter((k) => k.includes(':compensate')).sort()).toEqual([`${id}:cordon:compensate:1`, `${id}:scale:compensate:1`]);
    // Reverse order: scale is undone before cordon.
    const { items } = await json<{ items: { type: string; step?: { id: string } }[] }>(api(`/runs/${id}/events`, { key: t.keys.sre }));
    expect(items.filter((e) => e.type === 'step.compensated').map((e) => e.step!.id)).toEqual(['scale', 'cordon']);
    const scale = run.steps.find((s) => s.id === 'scale')!;
    expect(scale.compensation).toMatchObject({ tool: 'k8s.scale_deployment', status: 'succeeded' });
  });

  it('eviction mid-run (during a durable wait) resumes without repeating a tool call', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const id = await startRun(t.keys.sre, { runbook: 'wait-between' });
    const stub = stubFor(t.id, id);
    await runDurableObjectAlarm(stub);
    let run = await getRun(t.keys.sre, id);
    expect(statusOf(run)).toMatchObject({ cordon: 'succeeded', pause: 'running', ticket: 'pending' });

    await evictDurableObject(stub);
    // Time passes: move the wake-up time into the past instead of waiting ten minutes.
    await editRun(stub, (s) => {
      s.steps[1]!.wake_at = new Date(Date.now() - 1000).toISOString();
    });
    run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.attempts)).toEqual([1, 1, 1]);
    const keys = (await ledger(id)).map((c) => c.idempotencyKey).sort();
    expect(keys).toEqual([`${id}:cordon:1`, `${id}:ticket:1`]);
  });

  it('a crash after the tool acted but before its result was stored does not act twice', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const id = await startRun(t.keys.sre, { runbook: 'wait-between' });
    const stub = stubFor(t.id, id);
    // Reproduce the state a crash leaves: "step.started" persisted (attempt 1), the vendor acted
    // (ledger row written by a first delivery), the result never stored.
    await editRun(stub, (s) => {
      s.status = 'running';
      s.steps[0]!.status = 'running';
      s.steps[0]!.attempts = 1;
      s.steps[0]!.args = { cluster: 'prod-eu', node: 'node-7' };
      s.steps[0]!.started_at = new Date().toISOString();
    });
    const { LedgerInvoker } = await import('../worker/runs/invoke');
    const { getTool } = await import('../worker/tools/catalog');
    const world: Record<string, unknown> = {};
    await new LedgerInvoker(makeDb(env.DB)).invoke({
      tool: getTool('k8s.cordon_node')!,
      args: { cluster: 'prod-eu', node: 'node-7' },
      idempotencyKey: `${id}:cordon:1`,
      tenantId: t.id,
      runId: id,
      stepId: 'cordon',
      mode: 'simulated',
      world,
    });
    await runDurableObjectAlarm(stub);
    const run = await getRun(t.keys.sre, id);
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await ledger(id)).filter((c) => c.stepId === 'cordon')).toHaveLength(1);
  });
});

describe('long runbooks', () => {
  it(`a runbook of ${MAX_RUNBOOK_STEPS} steps (the most a runbook may have) plans with the stub and runs to succeeded`, async () => {
    const t = await newTenant();
    const steps = Array.from({ length: MAX_RUNBOOK_STEPS }, (_, i) => `    - id: s${i + 1}\n      tool: k8s.get_node\n      with: { cluster: staging, node: node-${i + 1} }`);
    await createRunbook(t.keys.sre, `apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: long-read }\nspec:\n  steps:\n${steps.join('\n')}\n`);
    // The default policy's per-run budget is 40 steps; this tenant's allows the whole runbook.
    const policy = await json<{ id: string }>(api('/policies', { method: 'POST', key: t.keys.admin, yaml: defaultPolicy.replace('max_steps: 40', `max_steps: ${MAX_RUNBOOK_STEPS}`) }));
    expect((await api(`/policies/${policy.id}/activate`, { method: 'POST', key: t.keys.admin, json: {} })).status).toBe(200);
    const id = await startRun(t.keys.sre, { runbook: 'long-read' });
    const run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed'], 2 * MAX_RUNBOOK_STEPS);
    expect(run.status, run.reason).toBe('succeeded');
    expect(run.steps.filter((s) => s.status === 'succeeded')).toHaveLength(MAX_RUNBOOK_STEPS);
  }, 60_000);
});

describe('large results', () => {
  it('a run of 30 log reads succeeds; the run view carries previews and digests, the whole result is served apart', async () => {
    const t = await newTenant();
    const steps = Array.from({ length: 30 }, (_, i) => `    - id: logs${i + 1}\n      tool: k8s.get_pod_logs\n      with: { cluster: staging, namespace: payments, pod: api-7d9f8b6c5d-x${String(i).padStart(4, '0')}, tail_lines: 1000 }`);
    await createRunbook(t.keys.sre, `apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: read-logs }\nspec:\n  steps:\n${steps.join('\n')}\n`);
    const id = await startRun(t.keys.sre, { runbook: 'read-logs' });
    const run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed'], 100);
    expect(run.status).toBe('succeeded');
    const large = run.steps.filter((s) => s.result_ref);
    expect(large.length).toBeGreaterThanOrEqual(20);
    const viewBytes = JSON.stringify(run).length;
    const wholeBytes = large.reduce((n, s) => n + s.result_ref!.bytes, 0);
    console.log(`[large results] ${large.length} of 30 out of line, ${wholeBytes} bytes in all; the run view is ${viewBytes} bytes`);
    expect(viewBytes).toBeLessThan(wholeBytes / 10);
    const step = large[0]!;
    const whole = await json<{ result: { lines: string[] }; result_ref: { sha256: string } }>(api(`/runs/${id}/steps/${step.id}/result`, { key: t.keys.viewer }));
    expect(JSON.stringify(whole.result).startsWith(step.result_ref!.preview)).toBe(true);
    expect(whole.result_ref.sha256).toBe(step.result_ref!.sha256);
    expect(whole.result.lines.length).toBeGreaterThan(0);
    expect((await api(`/runs/${id}/steps/nope/result`, { key: t.keys.viewer })).status).toBe(404);
    // Nothing the object stores grows with the results: each value stays small.
    const sizes = await runInDurableObject(stubFor(t.id, id), async (_i, state) => {
      const all = await state.storage.list({ prefix: 'step:' });
      return [...all.values()].map((v) => JSON.stringify(v).length);
    });
    expect(Math.max(...sizes)).toBeLessThan(8 * 1024);
  });
});

describe('alarms', () => {
  it('an alarm that ends waiting (a durable sleep) leaves the next one armed for the wake-up', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const id = await startRun(t.keys.sre, { runbook: 'wait-between' });
    const stub = stubFor(t.id, id);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await stub.settle();
    expect(statusOf(await getRun(t.keys.sre, id))).toMatchObject({ cordon: 'succeeded', pause: 'running' });
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThan(Date.now() + 9 * 60_000);
  });
});

describe('the outbox', () => {
  it('a cancel whose copy to D1 and the audit log fails is answered, and its "cancelled by" reaches both once the copy works', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const id = await startRun(t.keys.sre, { runbook: 'wait-between' });
    const stub = stubFor(t.id, id);
    await driveUntil(t.id, t.keys.sre, id, ['running']);
    await stub.settle();
    // D1 and the audit log are unreachable from this object for now.
    await runInDurableObject(stub, (instance: unknown) => {
      const outbox = (instance as { outbox: { deliver: () => Promise<void> } }).outbox;
      const original = outbox.deliver.bind(outbox);
      outbox.deliver = () => Promise.reject(new Error('D1 is unavailable'));
      (globalThis as { restoreOutbox?: () => void }).restoreOutbox = () => void (outbox.deliver = original);
    });
    const res = await api(`/runs/${id}/cancel`, { method: 'POST', key: t.keys.sre, json: {} });
    expect(res.status).toBe(200);
    expect((await json<{ status: string }>(res)).status).toBe('cancelled');
    // Not copied yet: the D1 row still says running; an alarm is armed to try again.
    expect((await env.DB.prepare('SELECT status FROM runs WHERE id = ?').bind(id).first<{ status: string }>())!.status).not.toBe('cancelled');
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(stub, () => (globalThis as { restoreOutbox?: () => void }).restoreOutbox?.());
    await runDurableObjectAlarm(stub);
    await stub.settle();
    expect((await env.DB.prepare('SELECT status FROM runs WHERE id = ?').bind(id).first<{ status: string }>())!.status).toBe('cancelled');
    const audit = await json<{ items: { actor: { id: string }; data: { message?: string } }[] }>(api(`/audit?action=run.cancelled&resource_id=${id}`, { key: t.keys.admin }));
    expect(audit.items.filter((e) => /^Cancelled by /.test(e.data.message ?? ''))).toHaveLength(1);
  });
});

describe('poison pills', () => {
  it('a run whose every tick fails ends failed with engine_error after five tries, instead of retrying for ever', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const id = await startRun(t.keys.sre, { runbook: 'wait-between' });
    const stub = stubFor(t.id, id);
    await driveUntil(t.id, t.keys.sre, id, ['running']);
    // A state no tick can work with (as a bad deploy or a corrupted value would leave).
    await editRun(stub, (run) => {
      (run.spec.spec as { steps: unknown }).steps = null;
      run.cursor = run.steps.findIndex((s) => s.status === 'pending');
    });
    let run = await getRun(t.keys.sre, id);
    for (let i = 0; i < 8 && run.status !== 'failed'; i++) {
      await runDurableObjectAlarm(stub);
      await stub.settle();
      run = await getRun(t.keys.sre, id);
    }
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/^engine_error: .* \(after 5 attempts\)$/);
    // And then it rests: no alarm re-arms it.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe('D1 mirror after a restart', () => {
  it('a restarted run object resumes the copy to D1 from its outbox cursor (the approvals inbox reads them)', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, withApproval);
    const id = await startRun(t.keys.sre, { runbook: 'drain-approved', inputs: { node: 'node-8' } });
    await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);
    // A crash between the commit and the copy to D1 leaves the mirror behind, and the alarm that
    // was running unacknowledged, so the platform delivers it again.
    await env.DB.prepare("UPDATE run_steps SET status = 'pending' WHERE run_id = ?").bind(id).run();
    const stub = stubFor(t.id, id);
    await runInDurableObject(stub, async (_i, state) => {
      const cursors = (await state.storage.get<OutboxCursors>('outbox'))!;
      await state.storage.put('outbox', { ...cursors, mirrored_seq: 0 });
      await state.storage.setAlarm(Date.now());
    });
    await evictDurableObject(stub);
    await runDurableObjectAlarm(stub);
    await stub.settle();
    const rows = await env.DB.prepare('SELECT step_id, status FROM run_steps WHERE run_id = ? ORDER BY idx').bind(id).all<{ step_id: string; status: string }>();
    expect(Object.fromEntries(rows.results.map((r) => [r.step_id, r.status]))).toMatchObject({ cordon: 'succeeded', drain: 'awaiting_approval' });
  });
});

describe('watchdog', () => {
  it('re-arms a run whose alarm was lost', async () => {
    const { sweepStalledRuns } = await import('../worker/runs/watchdog');
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const id = await startRun(t.keys.sre, { runbook: 'wait-between' });
    const stub = stubFor(t.id, id);
    await runDurableObjectAlarm(stub);
    await stub.settle();
    expect(statusOf(await getRun(t.keys.sre, id)).pause).toBe('running');
    await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm());
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    // The run wanted to be woken long ago (its D1 copy says when), and nothing has happened since.
    expect((await env.DB.prepare('SELECT next_wake_at FROM runs WHERE id = ?').bind(id).first<{ next_wake_at: string | null }>())!.next_wake_at).not.toBeNull();
    await env.DB.prepare("UPDATE runs SET next_wake_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").bind(id).run();
    expect(await sweepStalledRuns(env)).toBeGreaterThanOrEqual(1);
    // The re-armed alarm may fire at once and re-arm for the end of the wait; while it runs there is
    // no alarm set, so look again until it has finished.
    let alarm: number | null = null;
    for (let i = 0; i < 40 && alarm === null; i++) {
      await stub.settle();
      alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
      if (alarm === null) await new Promise((r) => setTimeout(r, 25));
    }
    expect(alarm).not.toBeNull();
  });
});

describe('watchdog paging', () => {
  it('finds every stalled run, page by page, in wake order, and none that is on time or finished', async () => {
    const { sweepStalledRuns } = await import('../worker/runs/watchdog');
    const t = await newTenant();
    const insert = (id: string, status: string, wake: string | null) =>
      env.DB.prepare(
        "INSERT INTO runs (id, tenant_id, runbook_id, runbook_name, runbook_version, status, mode, inputs, context, actor_type, actor_id, next_wake_at) VALUES (?, ?, 'rb', 'rb', 1, ?, 'execute', '{}', '{}', 'api_key', 'k', ?)",
      ).bind(id, t.id, status, wake);
    const now = Date.parse('2026-12-08T12:00:00Z');
    const stalled = Array.from({ length: 450 }, (_, i) => insert(`run_stall_${t.id}_${String(i).padStart(3, '0')}`, i % 3 === 0 ? 'awaiting_approval' : 'running', new Date(now - 3_600_000 + i).toISOString()));
    const fine = Array.from({ length: 30 }, (_, i) => insert(`run_fine_${t.id}_${i}`, 'running', new Date(now + 60_000).toISOString()));
    const done = Array.from({ length: 30 }, (_, i) => insert(`run_done_${t.id}_${i}`, 'succeeded', null));
    await env.DB.batch([...stalled, ...fine, ...done]);
    // Other tests' runs may be stalled too at this clock: count only this tenant's.
    const before = await env.DB.prepare("SELECT count(*) AS n FROM runs WHERE tenant_id != ? AND next_wake_at IS NOT NULL AND next_wake_at < ? AND status IN ('queued','planning','running','awaiting_approval')").bind(t.id, new Date(now - 300_000).toISOString()).first<{ n: number }>();
    expect(await sweepStalledRuns(env, { now, pageSize: 100 })).toBeGreaterThanOrEqual(450 + before!.n);
  });
});

describe('run list pagination', () => {
  it('pages through runs created in the same millisecond without skipping or repeating one', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const started: string[] = [];
    for (let i = 0; i < 5; i++) started.push(await startRun(t.keys.sre, { runbook: 'wait-between', mode: 'dry_run' }));
    // Runs started together (a webhook burst) share a created_at: the cursor must tell them apart.
    await env.DB.prepare('UPDATE runs SET created_at = ? WHERE tenant_id = ?').bind('2026-12-01T10:00:00.000Z', t.id).run();
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const q: string = cursor ? `&before=${encodeURIComponent(cursor)}` : '';
      const body: { items: Array<{ id: string }>; next_cursor: string | null } = await json(api(`/runs?limit=2${q}`, { key: t.keys.viewer }));
      seen.push(...body.items.map((r) => r.id));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.length).toBe(5);
    expect([...seen].sort()).toEqual([...started].sort());
    // Newest first, ties broken by id (descending).
    expect(seen).toEqual([...started].sort().reverse());
  });
});

describe('POST /runs with an Idempotency-Key', () => {
  const post = (key: string, idem: string | undefined, body: Record<string, unknown>) =>
    api('/runs', { method: 'POST', key, json: body, headers: idem === undefined ? {} : { 'idempotency-key': idem } });

  it('a retry answers 200 with the run the first request started; nothing runs twice', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const body = { runbook: 'wait-between', mode: 'dry_run' };
    const first = await post(t.keys.sre, 'deploy-4711', body);
    const a = await json<{ id: string; status: string; replayed: boolean }>(first);
    expect(first.status).toBe(201);
    expect(a.replayed).toBe(false);
    const again = await post(t.keys.sre, 'deploy-4711', body);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: a.id, replayed: true });
    // A key is the tenant's: the same key elsewhere, or without one, is another run.
    const other = await newTenant();
    await createRunbook(other.keys.sre, WAITING);
    const b = await json<{ id: string }>(post(other.keys.sre, 'deploy-4711', body));
    expect(b.id).not.toBe(a.id);
    const list = await json<{ items: { id: string }[] }>(api('/runs', { key: t.keys.viewer }));
    expect(list.items.map((r) => r.id)).toEqual([a.id]);
    const started = await json<{ items: unknown[] }>(api(`/audit?action=run.created`, { key: t.keys.viewer }));
    expect(started.items).toHaveLength(1);
  });

  it('requests racing with one key start one run', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const body = { runbook: 'wait-between', mode: 'dry_run' };
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(t.keys.sre, 'burst-1', body).then((r) => json<{ id: string; replayed: boolean }>(r))));
    expect(new Set(answers.map((x) => x.id)).size).toBe(1);
    expect(answers.filter((x) => !x.replayed)).toHaveLength(1);
    const list = await json<{ items: unknown[] }>(api('/runs', { key: t.keys.viewer }));
    expect(list.items).toHaveLength(1);
  });

  it('a key reused for another request is refused with 409 and changes nothing; a malformed key is a 400', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const first = await json<{ id: string }>(post(t.keys.sre, 'k-1', { runbook: 'wait-between', mode: 'dry_run' }));
    const reused = await post(t.keys.sre, 'k-1', { runbook: 'wait-between', mode: 'execute' });
    expect(reused.status).toBe(409);
    expect((await json<{ error: { message: string } }>(reused)).error.message).toMatch(/Idempotency-Key was already used for a different request/);
    const run = await getRun(t.keys.viewer, first.id);
    expect(run.mode).toBe('dry_run');
    const bad = await post(t.keys.sre, 'has space', { runbook: 'wait-between' });
    expect(bad.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(bad)).error.details[0]!.path).toBe('header.Idempotency-Key');
    expect((await json<{ items: unknown[] }>(api('/runs', { key: t.keys.viewer }))).items).toHaveLength(1);
  });

  it('a shadow run retried keeps its one expectation', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const body = { runbook: 'wait-between', mode: 'shadow', expected: [{ tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } }] };
    const first = await post(t.keys.sre, 'shadow-1', body);
    expect(first.status).toBe(201);
    const again = await post(t.keys.sre, 'shadow-1', body);
    expect(again.status).toBe(200);
    const { id } = await json<{ id: string }>(first);
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM shadow_expectations WHERE tenant_id = ? AND run_id = ?').bind(t.id, id).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it('keys of POST /runs and POST /tools/invoke do not meet', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const run = await json<{ id: string }>(post(t.keys.sre, 'same-key', { runbook: 'wait-between', mode: 'dry_run' }));
    const call = await api('/tools/invoke', { method: 'POST', key: t.keys.sre, json: { tool: 'k8s.get_node', args: { cluster: 'prod-eu', node: 'n1' }, mode: 'dry_run' }, headers: { 'idempotency-key': 'same-key' } });
    expect(call.status).toBe(200);
    expect((await json<{ run_id: string }>(call)).run_id).not.toBe(run.id);
  });
});

describe('a run its object cannot take', () => {
  it('leaves nothing behind: no D1 row (its runs-per-hour slot freed), no state, no alarm', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, WAITING);
    const db = makeDb(env.DB);
    const found = await findRunbook(db, t.id, 'wait-between');
    const rb = await getRunbook(db, t.id, found!.id);
    const id = 'run_cannot_take_1';
    const stub = stubFor(t.id, id);
    // The copy to D1 and the audit log fails once the run is admitted (its D1 row written).
    await runInDurableObject(stub, (instance: unknown) => {
      (instance as { deliver: () => Promise<void> }).deliver = () => Promise.reject(new Error('D1 is unavailable'));
    });
    const principal = { tenantId: t.id, tenantName: 't', keyId: 'key_x', keyName: 'x', role: 'sre' as const, platformOwner: false, actor: { type: 'api_key' as const, id: 'key_x' } };
    await expect(startRunIn(env, db, principal, { id, runbook: { id: rb.id, name: rb.name, version: rb.version }, spec: rb.spec, inputs: {}, context: {}, mode: 'dry_run' })).rejects.toThrow(/D1 is unavailable/);
    expect(await db.select().from(runs).where(eq(runs.id, id))).toEqual([]);
    await runInDurableObject(stub, async (_instance, state) => {
      expect(await state.storage.get('run')).toBeUndefined();
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });
});
