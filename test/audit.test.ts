import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json, newTenant, settleAudit } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

const RB = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: audited }
spec:
  steps:
    - id: note
      tool: pagerduty.add_note
      with: { incident_id: PXYZ123, content: 'token=ark_abcdefghijklmnopqrstuvwxyz0123 investigating' }
`;

describe('audit log', () => {
  it('records API calls and run events in a chain that verifies', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, RB);
    const id = await startRun(t.keys.sre, { runbook: 'audited' });
    await driveUntil(t.id, t.keys.sre, id, ['succeeded']);
    const { items } = await json<{ items: { seq: number; action: string; prev_hash: string; hash: string; data: Record<string, unknown> }[] }>(api('/audit?limit=1000', { key: t.keys.viewer }));
    const actions = items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['runbook.created', 'run.created', 'run.step.started', 'run.step.succeeded', 'run.succeeded']));
    expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
    for (let i = 1; i < items.length; i++) expect(items[i]!.prev_hash).toBe(items[i - 1]!.hash);
    // Secrets are redacted before hashing.
    expect(JSON.stringify(items)).not.toContain('ark_abcdefghijklmnopqrstuvwxyz0123');
    const verify = await json<{ ok: boolean; entries: number }>(api('/audit/verify', { key: t.keys.viewer }));
    expect(verify).toEqual({ ok: true, entries: items.length });
  });

  it('detects an altered row, naming the first bad sequence number', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, RB);
    const id = await startRun(t.keys.sre, { runbook: 'audited' });
    await driveUntil(t.id, t.keys.sre, id, ['succeeded']);
    const changed = await env.DB.prepare(`UPDATE audit_log SET data = json_set(data, '$.status', 'failed') WHERE tenant_id = ? AND seq = 4`).bind(t.id).run();
    expect(changed.meta.changes).toBe(1);
    const verify = await json<{ ok: boolean; first_bad_seq: number; reason: string }>(api('/audit/verify', { key: t.keys.viewer }));
    expect(verify.ok).toBe(false);
    expect(verify.first_bad_seq).toBe(4);
    expect(verify.reason).toContain('altered');
  });

  it('detects a deleted row', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, RB);
    await createRunbook(t.keys.sre, RB.replace('name: audited', 'name: audited-2'));
    await createRunbook(t.keys.sre, RB.replace('name: audited', 'name: audited-3'));
    await settleAudit(t.id);
    await env.DB.prepare('DELETE FROM audit_log WHERE tenant_id = ? AND seq = 2').bind(t.id).run();
    const verify = await json<{ ok: boolean; first_bad_seq: number }>(api('/audit/verify', { key: t.keys.viewer }));
    expect(verify).toMatchObject({ ok: false, first_bad_seq: 2 });
  });

  it('exports JSONL that matches the API entries', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, RB);
    const res = await api('/audit/export', { key: t.keys.viewer });
    expect(res.headers.get('content-type')).toContain('ndjson');
    // Entry lines are the ones without a `type` (the header, keys, checkpoints and manifest have one).
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type?: string; seq: number; hash: string }).filter((l) => l.type === undefined);
    const { items } = await json<{ items: { seq: number; hash: string }[] }>(api('/audit', { key: t.keys.viewer }));
    expect(lines.map((l) => l.hash)).toEqual(items.map((i) => i.hash));
  });
});
