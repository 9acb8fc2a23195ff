import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import { createApiKey } from '../worker/auth/keys';
import { makeDb } from '../worker/db/client';
import type { RunState } from '../worker/runs/types';
import { api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil, getRun, startRun, statusOf, stubFor, editRun } from './run-helpers';

const CORDON = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: cordon }
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
`;

/** The default policy with the production approval rule changed as given. */
function policyWithApproval(approval: string): string {
  return defaultPolicy.replace('approval: { roles: [sre, admin], count: 1, distinct_from_requester: true, expires_in: 30m }', `approval: ${approval}`);
}

async function activate(adminKey: string, yaml: string): Promise<void> {
  const created = await api('/policies', { method: 'POST', key: adminKey, yaml });
  const body = await json<{ id: string }>(created);
  expect(created.status, JSON.stringify(body)).toBe(201);
  expect((await api(`/policies/${body.id}/activate`, { method: 'POST', key: adminKey, json: {} })).status).toBe(200);
}

async function extraKey(t: TestTenant, role: 'sre' | 'admin' | 'operator', name: string) {
  return createApiKey(makeDb(env.DB), { tenantId: t.id, name, role, createdBy: 'test' });
}

async function waitingProdCordon(t: TestTenant, requesterKey: string): Promise<string> {
  await createRunbook(t.keys.admin, CORDON);
  const id = await startRun(requesterKey, { runbook: 'cordon', inputs: { node: 'node-7' }, context: { environment: 'prod' } });
  await driveUntil(t.id, requesterKey, id, ['awaiting_approval']);
  return id;
}

const approve = (id: string, key: string, comment?: string) =>
  api(`/runs/${id}/steps/cordon/approve`, { method: 'POST', key, json: comment ? { comment } : {} });
const inbox = async (key: string) => (await json<{ items: { run_id: string; step_id: string }[] }>(api('/approvals', { key }))).items;

describe('approvals', () => {
  it('separation of duties: the requester may not approve their own prod change, and does not see it in their inbox', async () => {
    const t = await newTenant();
    const id = await waitingProdCordon(t, t.keys.sre);
    expect(await inbox(t.keys.sre)).toEqual([]);
    const self = await approve(id, t.keys.sre);
    expect(self.status).toBe(403);
    expect((await json<{ error: { message: string } }>(self)).error.message).toMatch(/other than the person who started the run/);
    expect(await inbox(t.keys.admin)).toContainEqual(expect.objectContaining({ run_id: id, step_id: 'cordon' }));
    expect((await approve(id, t.keys.admin, 'checked the node')).status).toBe(200);
    expect((await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  it('an approval wakes the run at once: its alarm is due now, not at the request\'s expiry', async () => {
    const t = await newTenant();
    const id = await waitingProdCordon(t, t.keys.sre);
    const stub = stubFor(t.id, id);
    // Waiting, the run's only wake-up is the request's expiry, thirty minutes out.
    const waitingAlarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(waitingAlarm).toBeGreaterThan(Date.now() + 60_000);
    expect((await approve(id, t.keys.admin)).status).toBe(200);
    // The answer's copy to D1 and the audit log re-arms the alarm: it must not push it back.
    await stub.settle();
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm === null || alarm <= Date.now()).toBe(true);
  });

  it('roles: only roles the rule names may approve, even if the policy gives them approve rights', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, policyWithApproval('{ roles: [admin], count: 1, distinct_from_requester: true }'));
    const id = await waitingProdCordon(t, t.keys.sre);
    const sre2 = await extraKey(t, 'sre', 'second-sre');
    const res = await approve(id, sre2.key);
    expect(res.status).toBe(403);
    expect((await json<{ error: { message: string } }>(res)).error.message).toContain('needs admin');
    expect(await inbox(sre2.key)).toEqual([]);
    expect((await approve(id, t.keys.operator)).status).toBe(403);
    expect((await approve(id, t.keys.viewer)).status).toBe(403);
  });

  it('quorum: two distinct approvals are needed; one person cannot count twice', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, policyWithApproval('{ roles: [sre, admin], count: 2, distinct_from_requester: true }'));
    const id = await waitingProdCordon(t, t.keys.sre);
    const sre2 = await extraKey(t, 'sre', 'second-sre');

    expect((await approve(id, sre2.key, 'one')).status).toBe(200);
    await runDurableObjectAlarm(stubFor(t.id, id));
    let run = await getRun(t.keys.viewer, id);
    expect(run.status).toBe('awaiting_approval');
    expect(run.steps[0]!.approvals).toHaveLength(1);
    // The first approver's inbox no longer lists it; another approver's does.
    expect(await inbox(sre2.key)).toEqual([]);
    expect(await inbox(t.keys.admin)).toContainEqual(expect.objectContaining({ run_id: id }));
    const twice = await approve(id, sre2.key);
    expect(twice.status).toBe(409);

    expect((await approve(id, t.keys.admin, 'two')).status).toBe(200);
    run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    const events = await json<{ items: { type: string; message?: string }[] }>(api(`/runs/${id}/events`, { key: t.keys.viewer }));
    expect(events.items.filter((e) => e.type === 'step.approved').map((e) => e.message)).toEqual([
      expect.stringContaining('(1/2): one'),
      expect.stringContaining('(2/2): two'),
    ]);
  });

  it('expiry: an approval request that lapsed cannot be approved, and the step ends denied', async () => {
    const t = await newTenant();
    const id = await waitingProdCordon(t, t.keys.sre);
    const waiting = await getRun(t.keys.viewer, id);
    expect(waiting.steps[0]!.approval?.expires_in).toBe('30m');
    // Thirty minutes pass.
    await editRun(stubFor(t.id, id), (run) => {
      run.steps[0]!.approval_expires_at = new Date(Date.now() - 1000).toISOString();
    });
    const late = await approve(id, t.keys.admin);
    expect(late.status).toBe(409);
    expect((await json<{ error: { message: string } }>(late)).error.message).toMatch(/expired/);
    const run = await driveUntil(t.id, t.keys.sre, id, ['denied', 'failed', 'succeeded']);
    expect(run.status).toBe('denied');
    expect(run.steps[0]).toMatchObject({ status: 'denied', error: 'Approval request expired', attempts: 0 });
  });

  it('changed arguments void an approval: the step asks again, and only an approval of the new arguments lets it run', async () => {
    const t = await newTenant();
    const id = await waitingProdCordon(t, t.keys.sre);
    // While the step waits, what its arguments are built from changes (as when an agent re-fills
    // them): the approval that follows is for the arguments shown, node-7, not node-8.
    await editRun(stubFor(t.id, id), (run) => {
      run.inputs = { ...run.inputs, node: 'node-8' };
    });
    expect((await approve(id, t.keys.admin)).status).toBe(200);
    let run = await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval', 'succeeded']);
    expect(run.status).toBe('awaiting_approval');
    expect(run.steps[0]!.args).toMatchObject({ node: 'node-8' });
    expect(run.steps[0]!.attempts).toBe(0);
    const events = await json<{ items: { type: string }[] }>(api(`/runs/${id}/events`, { key: t.keys.viewer }));
    expect(events.items.map((e) => e.type)).toContain('step.approval_voided');
    expect(await inbox(t.keys.admin)).toContainEqual(expect.objectContaining({ run_id: id }));

    expect((await approve(id, t.keys.admin, 'node-8 is fine too')).status).toBe(200);
    run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]!.result).toMatchObject({ node: 'node-8' });
  });

  it('a denial with a comment ends the run denied; approvals and denials are in the audit log', async () => {
    const t = await newTenant();
    const id = await waitingProdCordon(t, t.keys.sre);
    const res = await api(`/runs/${id}/steps/cordon/deny`, { method: 'POST', key: t.keys.admin, json: { comment: 'not during the sale' } });
    expect(res.status).toBe(200);
    const run = await driveUntil(t.id, t.keys.sre, id, ['denied', 'failed', 'succeeded']);
    expect(run.status).toBe('denied');
    expect(statusOf(run)).toEqual({ cordon: 'denied' });
    expect(run.steps[0]!.error).toContain('not during the sale');
    const audit = await json<{ items: { action: string; actor: { id: string } }[] }>(api(`/audit?resource_id=${id}`, { key: t.keys.viewer }));
    expect(audit.items.map((e) => e.action)).toEqual(expect.arrayContaining(['run.step.awaiting_approval', 'run.step.denied']));
  });
});
