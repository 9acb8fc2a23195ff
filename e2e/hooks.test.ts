// Issue 5's end to end: a firing Alertmanager notification, posted over HTTP to `wrangler dev` the way
// Alertmanager's webhook receiver does, starts the matching runbook, which succeeds (simulated).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT, apiClient, createRunbook, uniqueName, waitForRun, type Api } from './helpers';

const { url, adminKey } = inject('e2e');
let api: Api;
let tenantId: string;
const TOKEN = `am-${Math.random().toString(36).slice(2)}-bearer-token`;

beforeAll(async () => {
  api = apiClient(url, adminKey);
  tenantId = (await api('GET', '/me')).body.tenant.id;
  const configured = await api('PUT', '/integrations/alertmanager', { json: { webhook_secret: TOKEN } });
  expect(configured.status, configured.text).toBe(200);
});

describe('Alertmanager → runbook (HTTP, wrangler dev)', () => {
  it('a firing alert starts the matching runbook, which reaches succeeded; the same notification again starts nothing', async () => {
    const name = uniqueName('e2e-node-alert');
    const alertname = `E2ENodeNotReady${Date.now()}`;
    await createRunbook(
      api,
      `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: ${name} }
spec:
  inputs:
    node: { type: string, required: true }
  triggers:
    - source: alertmanager
      when: 'event.status == "firing" && event.alerts.exists(a, a.labels.alertname == "${alertname}")'
      inputs: { node: 'event.alerts[0].labels.node' }
  steps:
    - id: look
      tool: k8s.get_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }} is not ready' }
`,
    );
    const fixture = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'alertmanager-firing.json'), 'utf8'));
    fixture.alerts[0].labels.alertname = alertname;
    const body = JSON.stringify(fixture);
    const post = () =>
      fetch(`${url}/api/v1/hooks/${tenantId}/alertmanager`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });

    const res = await post();
    const delivery = (await res.json()) as { runs: string[]; duplicate: boolean };
    expect(res.status, JSON.stringify(delivery)).toBe(202);
    expect(delivery.runs).toHaveLength(1);
    const run = await waitForRun(api, delivery.runs[0]!, ['succeeded', 'failed', 'denied']);
    expect(run.status).toBe('succeeded');
    expect(run.inputs).toEqual({ node: 'ip-10-0-3-17.eu-west-1.compute.internal' });

    const again = (await (await post()).json()) as { runs: string[]; duplicate: boolean };
    expect(again).toMatchObject({ duplicate: true, runs: delivery.runs });
    const bad = await fetch(`${url}/api/v1/hooks/${tenantId}/alertmanager`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' } });
    expect(bad.status).toBe(401);
  });
});
