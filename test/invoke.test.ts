import { describe, expect, it } from 'vitest';
import { api, json, newTenant } from './helpers';
import { driveUntil } from './run-helpers';

interface Invocation {
  run_id: string;
  status: string;
  effect: string | null;
  reasons: { kind: string; name: string; effect: string; message: string }[];
  step: { status: string; result?: Record<string, unknown>; error?: string; attempts: number };
  replayed: boolean;
}

const invoke = (key: string, body: unknown, idem?: string) =>
  api('/tools/invoke', { method: 'POST', key, json: body, headers: idem ? { 'idempotency-key': idem } : {} });

describe('POST /tools/invoke', () => {
  it('an allowed call runs once and answers with its result; it is a run of one step, audited', async () => {
    const t = await newTenant();
    const res = await invoke(t.keys.operator, { tool: 'k8s.get_deployment', args: { cluster: 'prod-eu', namespace: 'web', name: 'api' }, reason: 'looking around' });
    const body = await json<Invocation>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'succeeded', effect: 'allow', replayed: false, step: { status: 'succeeded', attempts: 1 } });
    expect(body.step.result).toBeDefined();
    const run = await json<{ runbook: string; inputs: { reason?: string } }>(api(`/runs/${body.run_id}`, { key: t.keys.viewer }));
    expect(run).toMatchObject({ runbook: 'adhoc', inputs: { reason: 'looking around' } });
    const audit = await json<{ items: { action: string }[] }>(api(`/audit?action=tool.invoked`, { key: t.keys.viewer }));
    expect(audit.items).toHaveLength(1);
  });

  it('a call the role may not make is denied with the reason, and nothing runs', async () => {
    const t = await newTenant();
    const res = await invoke(t.keys.operator, { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-1' } });
    const body = await json<Invocation>(res);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'denied', effect: 'deny', step: { status: 'denied', attempts: 0 } });
    expect(body.reasons).toContainEqual(expect.objectContaining({ kind: 'role', name: 'operator', effect: 'deny' }));
  });

  it('a call that needs approval answers 202, waits in the inbox, and runs once approved', async () => {
    const t = await newTenant();
    const res = await invoke(t.keys.sre, { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-4' }, context: { environment: 'prod' } });
    const body = await json<Invocation>(res);
    expect(res.status).toBe(202);
    expect(body).toMatchObject({ status: 'awaiting_approval', effect: 'require_approval' });
    expect(body.reasons).toContainEqual(expect.objectContaining({ kind: 'rule', name: 'prod-writes-need-approval' }));
    const inbox = await json<{ items: { run_id: string }[] }>(api('/approvals', { key: t.keys.admin }));
    expect(inbox.items.map((i) => i.run_id)).toContain(body.run_id);
    expect((await api(`/runs/${body.run_id}/steps/call/approve`, { method: 'POST', key: t.keys.admin, json: {} })).status).toBe(200);
    const run = await driveUntil(t.id, t.keys.sre, body.run_id, ['succeeded', 'failed']);
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('the same Idempotency-Key returns the same call instead of making a second; a different call with it is refused', async () => {
    const t = await newTenant();
    const call = { tool: 'k8s.restart_deployment', args: { cluster: 'staging', namespace: 'web', name: 'api' } };
    const first = await json<Invocation>(await invoke(t.keys.sre, call, 'restart-api-1'));
    const again = await invoke(t.keys.sre, call, 'restart-api-1');
    const second = await json<Invocation>(again);
    expect(again.status).toBe(200);
    expect(second).toMatchObject({ run_id: first.run_id, replayed: true, status: 'succeeded' });
    expect(second.step.attempts).toBe(1);
    const conflict = await invoke(t.keys.sre, { ...call, args: { ...call.args, name: 'worker' } }, 'restart-api-1');
    expect(conflict.status).toBe(409);
    const runs = await json<{ items: unknown[] }>(api('/runs?runbook=adhoc', { key: t.keys.viewer }));
    expect(runs.items).toHaveLength(1);
    // Another tenant's identical key is another call.
    const other = await newTenant();
    const theirs = await json<Invocation>(await invoke(other.keys.sre, call, 'restart-api-1'));
    expect(theirs.run_id).not.toBe(first.run_id);
    expect(theirs.replayed).toBe(false);
  });

  it('dry_run decides and simulates without acting', async () => {
    const t = await newTenant();
    const body = await json<Invocation>(await invoke(t.keys.sre, { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-2' }, mode: 'dry_run' }));
    expect(body).toMatchObject({ status: 'succeeded', step: { status: 'simulated', attempts: 0 } });
  });

  it('bad input: unknown tool, invalid args, bad header, viewer → clear 4xx, no run recorded', async () => {
    const t = await newTenant();
    const unknown = await invoke(t.keys.sre, { tool: 'k8s.nuke_cluster', args: {} });
    expect(unknown.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(unknown)).error.details[0]!.path).toBe('tool');
    const invalid = await invoke(t.keys.sre, { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu' } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await json(invalid))).toContain('args.node');
    expect((await invoke(t.keys.sre, { tool: 'k8s.get_deployment', args: {} }, 'has spaces')).status).toBe(400);
    expect((await invoke(t.keys.viewer, { tool: 'k8s.get_deployment', args: { cluster: 'x', namespace: 'y', name: 'z' } })).status).toBe(403);
    const runs = await json<{ items: unknown[] }>(api('/runs', { key: t.keys.viewer }));
    expect(runs.items).toHaveLength(0);
  });
});
