// Replays and floods of webhooks: what the signature covers decides whether a delivery is new,
// and requests that fail their signature cannot spend the bucket of the real alerts.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hmacHex } from '../worker/lib/crypto';
import { api, BASE, json, newTenant, type TestTenant } from './helpers';
import { createRunbook } from './run-helpers';

const SECRET = 'whsec-replay-0123456789abcdef';

const runbook = (source: string, when: string) => `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: on-${source} }
spec:
  triggers:
    - source: ${source}
      when: '${when}'
  steps:
    - id: wait
      tool: core.wait
      with: { duration: 1s }
`;

interface Delivery {
  delivery: string;
  duplicate: boolean;
  runs: string[];
}

async function configure(t: TestTenant, source: string) {
  const res = await api(`/integrations/${source}`, { method: 'PUT', key: t.keys.admin, json: { webhook_secret: SECRET } });
  expect(res.status, await res.clone().text()).toBe(200);
}

function hook(tenantId: string, source: string, body: string, headers: Record<string, string>) {
  return exports.default.fetch(new Request(`${BASE}/hooks/${tenantId}/${source}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }));
}

async function runCount(t: TestTenant) {
  return (await json<{ items: unknown[] }>(api('/runs', { key: t.keys.viewer }))).items.length;
}

describe('webhook replay', () => {
  it('github: a captured delivery sent again under a fresh X-GitHub-Delivery is the same delivery and starts nothing', async () => {
    const t = await newTenant();
    await configure(t, 'github');
    await createRunbook(t.keys.sre, runbook('github', 'event.action == "completed"'));
    const body = JSON.stringify({ action: 'completed', workflow_run: { id: 42, conclusion: 'failure' } });
    const signature = `sha256=${await hmacHex(SECRET, body)}`;
    const first = await json<Delivery>(hook(t.id, 'github', body, { 'x-hub-signature-256': signature, 'x-github-delivery': 'gh-original', 'x-github-event': 'workflow_run' }));
    expect(first).toMatchObject({ delivery: 'gh-original', duplicate: false });
    expect(first.runs).toHaveLength(1);
    for (const fresh of ['gh-replay-1', 'gh-replay-2', crypto.randomUUID()]) {
      const replay = await hook(t.id, 'github', body, { 'x-hub-signature-256': signature, 'x-github-delivery': fresh, 'x-github-event': 'workflow_run' });
      expect(replay.status).toBe(202);
      expect(await json<Delivery>(replay)).toEqual({ delivery: 'gh-original', duplicate: true, runs: first.runs, matches: expect.any(Array) });
    }
    // GitHub's own redelivery (same id, same body) is a duplicate as before.
    expect((await json<Delivery>(hook(t.id, 'github', body, { 'x-hub-signature-256': signature, 'x-github-delivery': 'gh-original' }))).duplicate).toBe(true);
    expect(await runCount(t)).toBe(1);
  });

  it('generic: a replay inside the window is a duplicate whatever delivery id or extra signatures it carries; a retry re-signed under the same id too', async () => {
    const t = await newTenant();
    await configure(t, 'generic');
    await createRunbook(t.keys.sre, runbook('generic', 'event.kind == "deploy_failed"'));
    const body = JSON.stringify({ kind: 'deploy_failed', service: 'checkout' });
    const now = Math.floor(Date.now() / 1000);
    const sign = async (ts: number) => `v1=${await hmacHex(SECRET, `${ts}.${body}`)}`;
    const send = async (ts: number, headers: Record<string, string>) =>
      json<Delivery>(hook(t.id, 'generic', body, { 'x-agentrunbook-timestamp': String(ts), 'x-agentrunbook-signature': await sign(ts), ...headers }));

    const first = await send(now, { 'x-agentrunbook-delivery': 'evt-1' });
    expect(first).toMatchObject({ delivery: 'evt-1', duplicate: false });
    // The captured request with another (unsigned) delivery id, none, or a junk signature put first.
    expect(await send(now, { 'x-agentrunbook-delivery': 'evt-forged' })).toMatchObject({ delivery: 'evt-1', duplicate: true, runs: first.runs });
    expect(await send(now, {})).toMatchObject({ duplicate: true, runs: first.runs });
    for (const junk of ['0'.repeat(64), 'f'.repeat(64), 'attacker-chosen']) {
      const res = await hook(t.id, 'generic', body, { 'x-agentrunbook-timestamp': String(now), 'x-agentrunbook-signature': `v1=${junk},${await sign(now)}` });
      expect(await json<Delivery>(res)).toMatchObject({ duplicate: true, runs: first.runs });
    }
    // The sender retrying: re-signed with a new timestamp under the same delivery id.
    expect(await send(now + 1, { 'x-agentrunbook-delivery': 'evt-1' })).toMatchObject({ delivery: 'evt-1', duplicate: true, runs: first.runs });
    expect(await runCount(t)).toBe(1);
    // A new event (newly signed, its own id) starts its own run.
    const second = await send(now + 2, { 'x-agentrunbook-delivery': 'evt-2' });
    expect(second).toMatchObject({ delivery: 'evt-2', duplicate: false });
    expect(await runCount(t)).toBe(2);
  });
});

describe('webhook flooding', () => {
  it('forged requests do not spend the bucket of real alerts, and reach the audit log as one entry, not one each', async () => {
    const t = await newTenant();
    await configure(t, 'alertmanager');
    await createRunbook(t.keys.sre, runbook('alertmanager', 'event.status == "firing"'));
    const flood = 260; // more than the source's burst of 200
    for (let i = 0; i < flood; i++) {
      const res = await hook(t.id, 'alertmanager', JSON.stringify({ status: 'firing', n: i }), { authorization: `Bearer forged-token-${i}` });
      expect(res.status).toBe(401);
    }
    const real = await hook(t.id, 'alertmanager', JSON.stringify({ status: 'firing', alerts: [] }), { authorization: `Bearer ${SECRET}` });
    expect(real.status, await real.clone().text()).toBe(202);
    // The source's bucket (bursts of 200) is whole: only the real delivery took from it.
    expect(real.headers.get('ratelimit-remaining')).toBe('199');
    expect((await json<Delivery>(real)).runs).toHaveLength(1);
    const rejected = (await json<{ items: { action: string; data: Record<string, unknown> }[] }>(api('/audit?action=webhook.rejected&limit=500', { key: t.keys.admin }))).items;
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.data).toMatchObject({ reason: 'token does not match', unrecorded_before: 0 });
  }, 60_000);

  it('an address that keeps failing is slowed down with 429; a valid delivery from that address still goes through', async () => {
    const t = await newTenant();
    await configure(t, 'alertmanager');
    const from = { 'cf-connecting-ip': `203.0.113.${Math.floor(Math.random() * 250) + 1}` };
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await hook(t.id, 'alertmanager', '{"status":"firing"}', { ...from, authorization: 'Bearer forged-token' })).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    const limited = await hook(t.id, 'alertmanager', '{"status":"firing"}', { ...from, authorization: 'Bearer forged-token' });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Shared sender addresses (GitHub's, PagerDuty's) must not lock real deliveries out.
    const real = await hook(t.id, 'alertmanager', '{"status":"firing","alerts":[]}', { ...from, authorization: `Bearer ${SECRET}` });
    expect(real.status, await real.clone().text()).toBe(202);
  });
});
