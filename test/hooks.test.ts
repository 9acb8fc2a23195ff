import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { hmacHex } from '../worker/lib/crypto';
import alertmanagerFiring from './fixtures/alertmanager-firing.json';
import pagerdutyTriggered from './fixtures/pagerduty-incident-triggered.json';
import { api, BASE, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil } from './run-helpers';
import { exports } from 'cloudflare:workers';

const SECRET = 'whsec-0123456789abcdef-test';

const NODE_ALERT = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: node-alert }
spec:
  inputs:
    node: { type: string, required: true }
  triggers:
    - source: alertmanager
      when: 'event.status == "firing" && event.alerts.exists(a, a.labels.alertname == "KubeNodeNotReady")'
      inputs: { node: 'event.alerts[0].labels.node' }
  steps:
    - id: look
      tool: k8s.get_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }} is not ready' }
`;

const WORKFLOW_FAILED = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: workflow-finished }
spec:
  inputs:
    repo: { type: string, required: true }
  triggers:
    - source: github
      when: 'has(event.workflow_run) && event.action == "completed"'
      inputs: { repo: 'event.repository.full_name' }
  steps:
    - id: note
      tool: github.create_issue
      with: { repo: '\${{ inputs.repo }}', title: 'Workflow finished' }
`;

const PD_TRIAGE = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: pd-triage }
spec:
  inputs:
    incident_id: { type: string, required: true }
  triggers:
    - source: pagerduty
      when: 'event.event.event_type == "incident.triggered" && event.event.data.urgency == "high"'
      inputs: { incident_id: 'event.event.data.id' }
  steps:
    - id: note
      tool: pagerduty.add_note
      with: { incident_id: '\${{ inputs.incident_id }}', content: 'AgentRunbook is looking' }
`;

const GENERIC = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: generic-hook }
spec:
  triggers:
    - source: generic
      when: 'event.kind == "deploy_failed"'
  steps:
    - id: wait
      tool: core.wait
      with: { duration: 1s }
`;

async function configure(t: TestTenant, source: string, secret = SECRET) {
  const res = await api(`/integrations/${source}`, { method: 'PUT', key: t.keys.admin, json: { webhook_secret: secret } });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ webhook_url: string; webhook_secret_set: boolean }>(res);
}

/** Posts raw bytes, the way a vendor does (no API key). */
function hook(tenantId: string, source: string, body: string, headers: Record<string, string>) {
  return exports.default.fetch(new Request(`${BASE}/hooks/${tenantId}/${source}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }));
}

interface Delivery {
  delivery: string;
  duplicate: boolean;
  runs: string[];
  matches: { runbook: string; run?: string; error?: string }[];
}

async function runsOf(t: TestTenant) {
  return (await json<{ items: { id: string; runbook: string }[] }>(api('/runs', { key: t.keys.viewer }))).items;
}

async function auditActions(t: TestTenant, prefix: string) {
  const items = (await json<{ items: { action: string; data: Record<string, unknown> }[] }>(api('/audit?limit=200', { key: t.keys.viewer }))).items;
  return items.filter((e) => e.action.startsWith(prefix));
}

describe('webhooks', () => {
  it('alertmanager: a firing alert starts the matching runbook, which succeeds (simulated); a replayed delivery starts nothing', async () => {
    const t = await newTenant();
    const settings = await configure(t, 'alertmanager');
    expect(settings.webhook_url).toBe(`http://agentrunbook.test/api/v1/hooks/${t.id}/alertmanager`);
    await createRunbook(t.keys.sre, NODE_ALERT);
    const body = JSON.stringify(alertmanagerFiring);
    const res = await hook(t.id, 'alertmanager', body, { authorization: `Bearer ${SECRET}` });
    const first = await json<Delivery>(res);
    expect(res.status, JSON.stringify(first)).toBe(202);
    expect(first.duplicate).toBe(false);
    expect(first.runs).toHaveLength(1);
    const run = await driveUntil(t.id, t.keys.viewer, first.runs[0]!, ['succeeded', 'failed', 'denied']);
    expect(run.status).toBe('succeeded');
    expect(run.inputs).toEqual({ node: 'ip-10-0-3-17.eu-west-1.compute.internal' });
    expect(run.actor).toEqual({ type: 'webhook', id: 'hook:alertmanager' });

    const again = await json<Delivery>(await hook(t.id, 'alertmanager', body, { authorization: `Bearer ${SECRET}` }));
    expect(again).toMatchObject({ duplicate: true, runs: first.runs });
    expect(await runsOf(t)).toHaveLength(1);
    expect((await auditActions(t, 'webhook.')).map((e) => e.action).sort()).toEqual(['webhook.duplicate', 'webhook.received']);
  });

  it('alertmanager: a wrong or missing token is refused and audited; a resolved alert matches nothing', async () => {
    const t = await newTenant();
    await configure(t, 'alertmanager');
    await createRunbook(t.keys.sre, NODE_ALERT);
    const body = JSON.stringify(alertmanagerFiring);
    expect((await hook(t.id, 'alertmanager', body, { authorization: 'Bearer not-the-token-at-all' })).status).toBe(401);
    const missing = await hook(t.id, 'alertmanager', body, {});
    expect(missing.status).toBe(401);
    expect((await json<{ error: { message: string } }>(missing)).error.message).toContain('missing Authorization');
    const resolved = await json<Delivery>(await hook(t.id, 'alertmanager', JSON.stringify({ ...alertmanagerFiring, status: 'resolved' }), { authorization: `Bearer ${SECRET}` }));
    expect(resolved.runs).toEqual([]);
    expect(await runsOf(t)).toHaveLength(0);
    // Rejections are aggregated: the first of the minute is recorded, the next counted into a later entry.
    expect((await auditActions(t, 'webhook.rejected')).map((e) => e.data.reason)).toEqual(['token does not match']);
    // The right token with a body that is not JSON: the input is at fault, so 400 naming the body.
    const notJson = await hook(t.id, 'alertmanager', '<xml/>', { authorization: `Bearer ${SECRET}` });
    expect(notJson.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(notJson)).error.details).toEqual([{ path: '(body)', message: 'body is not JSON' }]);
  });

  it('github: the real workflow_run example with a valid X-Hub-Signature-256 starts a run; bad and missing signatures do not', async () => {
    const t = await newTenant();
    await configure(t, 'github');
    await createRunbook(t.keys.sre, WORKFLOW_FAILED);
    const example = examples.find((e) => e.name === 'workflow_run')!.examples.find((x) => (x as { action?: string }).action === 'completed')!;
    const body = JSON.stringify(example);
    const sign = async (secret: string) => `sha256=${await hmacHex(secret, body)}`;
    const headers = async (secret: string, delivery: string) => ({ 'x-hub-signature-256': await sign(secret), 'x-github-delivery': delivery, 'x-github-event': 'workflow_run' });

    const ok = await hook(t.id, 'github', body, await headers(SECRET, '72d3162e-cc78-11e3-81ab-4c9367dc0958'));
    const delivery = await json<Delivery>(ok);
    expect(ok.status, JSON.stringify(delivery)).toBe(202);
    expect(delivery.runs).toHaveLength(1);
    const run = await driveUntil(t.id, t.keys.viewer, delivery.runs[0]!, ['succeeded', 'failed', 'denied']);
    expect(run.inputs).toEqual({ repo: (example as { repository: { full_name: string } }).repository.full_name });

    expect((await hook(t.id, 'github', body, await headers('some-other-secret-value', 'd-2'))).status).toBe(401);
    const tampered = await hook(t.id, 'github', body.replace('"completed"', '"requested"'), { 'x-hub-signature-256': await sign(SECRET), 'x-github-delivery': 'd-4' });
    expect(tampered.status).toBe(401);
    expect((await hook(t.id, 'github', body, { 'x-github-delivery': 'd-5' })).status).toBe(401);
    // Authentic but malformed: a 400 naming what to fix, not a 401 that sends the sender after its secret.
    const noDelivery = await hook(t.id, 'github', body, { 'x-hub-signature-256': `sha256=${await hmacHex(SECRET, body)}` });
    expect(noDelivery.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(noDelivery)).error.details).toEqual([{ path: 'headers.x-github-delivery', message: 'missing X-GitHub-Delivery' }]);
  });

  it('github: during a secret rotation the previous secret keeps working, a third does not', async () => {
    const t = await newTenant();
    await configure(t, 'github', 'first-secret-0123456789');
    await configure(t, 'github', 'second-secret-0123456789');
    const view = await json<{ previous_secret_valid_until: string | null }>(api('/integrations/github', { key: t.keys.admin }));
    expect(view.previous_secret_valid_until).not.toBeNull();
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const send = async (secret: string, id: string) =>
      (await hook(t.id, 'github', body, { 'x-hub-signature-256': `sha256=${await hmacHex(secret, body)}`, 'x-github-delivery': id, 'x-github-event': 'ping' })).status;
    expect(await send('second-secret-0123456789', 'r-1')).toBe(202);
    expect(await send('first-secret-0123456789', 'r-2')).toBe(202);
    expect(await send('third-secret-0123456789', 'r-3')).toBe(401);
  });

  it('pagerduty v3: any one of several signatures (PagerDuty rotating) is enough; none valid is refused', async () => {
    const t = await newTenant();
    await configure(t, 'pagerduty');
    await createRunbook(t.keys.sre, PD_TRIAGE);
    const body = JSON.stringify(pagerdutyTriggered);
    const good = await hmacHex(SECRET, body);
    const bad = await hmacHex('an-old-pagerduty-secret', body);
    const res = await hook(t.id, 'pagerduty', body, { 'x-pagerduty-signature': `v1=${bad},v1=${good}` });
    const delivery = await json<Delivery>(res);
    expect(res.status, JSON.stringify(delivery)).toBe(202);
    expect(delivery.delivery).toBe('01DEN7RQ4W3ALMTDXCM1XNXDYS');
    expect(delivery.runs).toHaveLength(1);
    const run = await driveUntil(t.id, t.keys.viewer, delivery.runs[0]!, ['succeeded', 'failed', 'denied']);
    expect(run.inputs).toEqual({ incident_id: 'Q2WKWBHYXI9KHH' });
    expect((await hook(t.id, 'pagerduty', body, { 'x-pagerduty-signature': `v1=${bad}` })).status).toBe(401);
    expect((await hook(t.id, 'pagerduty', body, { 'x-pagerduty-signature': 'garbage' })).status).toBe(401);
    // PagerDuty retries a delivery with the same event id: one run, not two.
    expect((await json<Delivery>(await hook(t.id, 'pagerduty', body, { 'x-pagerduty-signature': `v1=${good}` }))).duplicate).toBe(true);
    expect(await runsOf(t)).toHaveLength(1);
  });

  it('generic: HMAC over timestamp and body within five minutes; a stale timestamp and a replayed delivery are refused or ignored', async () => {
    const t = await newTenant();
    await configure(t, 'generic');
    await createRunbook(t.keys.sre, GENERIC);
    const body = JSON.stringify({ kind: 'deploy_failed', service: 'checkout' });
    const send = async (ts: number, delivery: string, secret = SECRET) =>
      hook(t.id, 'generic', body, {
        'x-agentrunbook-timestamp': String(ts),
        'x-agentrunbook-signature': `v1=${await hmacHex(secret, `${ts}.${body}`)}`,
        'x-agentrunbook-delivery': delivery,
      });
    const now = Math.floor(Date.now() / 1000);
    const ok = await json<Delivery>(await send(now, 'g-1'));
    expect(ok.runs).toHaveLength(1);
    const stale = await send(now - 301, 'g-2');
    expect(stale.status).toBe(401);
    expect((await json<{ error: { message: string } }>(stale)).error.message).toContain('more than 5 minutes');
    expect((await send(now, 'g-3', 'wrong-secret-0123456789')).status).toBe(401);
    const replay = await json<Delivery>(await send(now, 'g-1'));
    expect(replay).toMatchObject({ duplicate: true, runs: ok.runs });
    expect(await runsOf(t)).toHaveLength(1);
  });

  it('an unknown tenant and an unconfigured source answer the same 404', async () => {
    const t = await newTenant();
    const a = await hook('ten_does_not_exist', 'alertmanager', '{}', { authorization: `Bearer ${SECRET}` });
    const b = await hook(t.id, 'alertmanager', '{}', { authorization: `Bearer ${SECRET}` });
    expect([a.status, b.status]).toEqual([404, 404]);
    expect((await json<{ error: { message: string } }>(a)).error.message).toBe((await json<{ error: { message: string } }>(b)).error.message);
  });
});

describe('integration settings', () => {
  it('never return credentials or secrets; bad credentials name the field, not the value', async () => {
    const t = await newTenant();
    const bad = await api('/integrations/pagerduty', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', credentials: { token: 'pd-token-SECRETVALUE', from_email: 'not-an-email' } } });
    expect(bad.status).toBe(400);
    const badText = await bad.text();
    expect(badText).toContain('credentials.from_email');
    expect(badText).not.toContain('SECRETVALUE');
    const res = await api('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', credentials: { token: 'ghp_SECRETVALUE123456' }, webhook_secret: SECRET } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text).not.toContain('SECRETVALUE');
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({ mode: 'live', credentials_set: true, webhook_secret_set: true });
    const all = await api('/integrations', { key: t.keys.admin });
    expect(await all.text()).not.toContain('SECRETVALUE');
    const audit = await api('/audit/export', { key: t.keys.admin });
    const exported = await audit.text();
    expect(exported).toContain('integration.updated');
    expect(exported).not.toContain('SECRETVALUE');
    expect(exported).not.toContain(SECRET);
  });

  it('live mode needs credentials; webhook-only sources take no credentials', async () => {
    const t = await newTenant();
    expect((await api('/integrations/jira', { method: 'PUT', key: t.keys.admin, json: { mode: 'live' } })).status).toBe(400);
    expect((await api('/integrations/alertmanager', { method: 'PUT', key: t.keys.admin, json: { credentials: { token: 'x' } } })).status).toBe(400);
    expect((await api('/integrations/github', { method: 'PUT', key: t.keys.sre, json: { mode: 'simulated' } })).status).toBe(403);
  });
});
