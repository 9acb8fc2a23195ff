import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import { api, json, newTenant } from './helpers';
import { createRunbook, driveUntil, startRun, statusOf } from './run-helpers';

const THREE_CHANGES = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: three-changes }
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-9 }
    - id: scale
      tool: k8s.scale_deployment
      with: { cluster: prod-eu, namespace: web, name: api, replicas: 5 }
    - id: restart
      tool: k8s.restart_deployment
      with: { cluster: prod-eu, namespace: web, name: api }
`;

async function activate(adminKey: string, yaml: string): Promise<void> {
  const created = await api('/policies', { method: 'POST', key: adminKey, yaml });
  const body = await json<{ id: string }>(created);
  expect(created.status, JSON.stringify(body)).toBe(201);
  expect((await api(`/policies/${body.id}/activate`, { method: 'POST', key: adminKey, json: {} })).status).toBe(200);
}

describe('per-run budgets', () => {
  it('a run that would exceed max_steps stops cleanly: failed, budget_exceeded, rest skipped, compensated', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max_steps: 40', 'max_steps: 2'));
    await createRunbook(t.keys.sre, THREE_CHANGES);
    const id = await startRun(t.keys.sre, { runbook: 'three-changes' });
    const run = await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    expect(run.status).toBe('failed');
    expect(run.reason).toBe('budget_exceeded: max_steps 2 reached');
    expect(statusOf(run)).toEqual({ cordon: 'compensated', scale: 'compensated', restart: 'skipped' });
    const audit = await json<{ items: { action: string; data: { message?: string } }[] }>(api('/audit?action=run.budget_exceeded', { key: t.keys.viewer }));
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]!.data.message).toContain('max_steps 2');
  });

  it('within the budget the same run succeeds', async () => {
    const t = await newTenant();
    await activate(t.keys.admin, defaultPolicy.replace('max_steps: 40', 'max_steps: 3'));
    await createRunbook(t.keys.sre, THREE_CHANGES);
    const id = await startRun(t.keys.sre, { runbook: 'three-changes' });
    expect((await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded'])).status).toBe('succeeded');
  });
});
