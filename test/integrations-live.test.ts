import { afterEach, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createGitHubFake, type GitHubFake } from './fakes/github-server';
import { api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil } from './run-helpers';
import { makeDb } from '../worker/db/client';
import { toolCalls } from '../worker/db/schema';
import { eq } from 'drizzle-orm';

const ORIGIN = 'https://github.fake';
const TOKEN = 'ghp_livetesttoken0123456789abcdef';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Routes the isolate's outbound fetch for the fake's origin to it (the run objects share the isolate). */
function install(fake: GitHubFake): void {
  const original = globalThis.fetch;
  const routed: typeof fetch = (input, init) => {
    const request = new Request(input, init);
    return new URL(request.url).origin === ORIGIN ? fake.handler(request) : original(input, init);
  };
  globalThis.fetch = routed;
  restore = () => {
    if (globalThis.fetch === routed) globalThis.fetch = original;
  };
}

async function goLive(t: TestTenant, token = TOKEN) {
  const res = await api('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', base_url: ORIGIN, credentials: { token } } });
  expect(res.status, await res.clone().text()).toBe(200);
}

const ISSUE = (title: string) => `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: open-issue }
spec:
  steps:
    - id: issue
      tool: github.create_issue
      with: { repo: acme/checkout, title: '${title}', labels: [incident] }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'still simulated' }
`;

describe('live integrations', () => {
  it('a live GitHub call goes through Octokit to the vendor API; tools of simulated integrations stay simulated', async () => {
    const fake = createGitHubFake({ token: TOKEN });
    fake.repo('acme/checkout');
    install(fake);
    const t = await newTenant();
    await goLive(t);
    await createRunbook(t.keys.sre, ISSUE('Checkout 5xx'));
    const started = await json<{ id: string }>(api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'open-issue' } }));
    const run = await driveUntil(t.id, t.keys.sre, started.id, ['succeeded', 'failed', 'denied']);
    expect(run.status, JSON.stringify(run.steps.map((s) => [s.id, s.status, s.error]))).toBe('succeeded');
    expect(run.integration_mode).toBe('live');
    expect(run.steps.map((s) => s.integration_mode)).toEqual(['live', 'simulated']);
    const created = [...fake.repos.get('acme/checkout')!.items.values()];
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ title: 'Checkout 5xx', labels: ['incident'] });
    expect(run.steps[0]!.result).toMatchObject({ number: created[0]!.number });
    // The vendor saw the token; the ledger says which calls were live.
    expect(fake.requests.some((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    const ledger = await makeDb(env.DB).select({ tool: toolCalls.tool, mode: toolCalls.mode }).from(toolCalls).where(eq(toolCalls.runId, started.id));
    expect(Object.fromEntries(ledger.map((l) => [l.tool, l.mode]))).toEqual({ 'github.create_issue': 'live', 'jira.create_issue': 'simulated' });
  });

  it('a secret a vendor echoes back is redacted from the run, its events and the audit log', async () => {
    const fake = createGitHubFake({ token: TOKEN });
    fake.repo('acme/checkout');
    install(fake);
    const t = await newTenant();
    await goLive(t);
    // A careless runbook puts the token into the title; GitHub would echo it in the result.
    await createRunbook(t.keys.sre, ISSUE(`debug ${TOKEN}`));
    const started = await json<{ id: string }>(api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'open-issue' } }));
    const run = await driveUntil(t.id, t.keys.sre, started.id, ['succeeded', 'failed', 'denied']);
    expect(JSON.stringify(run.steps[0]!.result)).not.toContain(TOKEN);
    expect(JSON.stringify(run.steps[0]!.result)).toContain('[redacted]');
    const exported = await (await api('/audit/export', { key: t.keys.admin })).text();
    expect(exported).not.toContain(TOKEN);
  });

  it('test-connection says who the credentials act as, or why they fail, without echoing them', async () => {
    const fake = createGitHubFake({ token: TOKEN, login: 'ops-bot' });
    install(fake);
    const t = await newTenant();
    await goLive(t);
    const ok = await json<{ ok: boolean; identity?: string }>(api('/integrations/github/test', { method: 'POST', key: t.keys.admin, json: {} }));
    expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true, identity: 'ops-bot' });
    await goLive(t, 'ghp_wrongtoken0123456789abcdef00');
    const bad = await api('/integrations/github/test', { method: 'POST', key: t.keys.admin, json: {} });
    const text = await bad.text();
    expect(JSON.parse(text).ok).toBe(false);
    expect(text).not.toContain('ghp_wrongtoken');
  });
});
