import { runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_WATCHERS_PER_CREDENTIAL, type Watcher } from '../worker/runs/live-view';
import { BASE, api, json, newTenant } from './helpers';
import { createRunbook, driveUntil, startRun, stubFor } from './run-helpers';

const SITE = 'http://agentrunbook.test';

const RB = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: watched }
spec:
  steps:
    - id: one
      tool: jira.create_issue
      with: { project: OPS, summary: watched }
      approval: required
    - id: two
      tool: jira.create_issue
      with: { project: OPS, summary: watched again }
      approval: required
`;

/** Signs in with a key as the UI does; the cookie for later requests. */
async function cookieFor(key: string): Promise<string> {
  const res = await api('/session', { method: 'POST', json: { key }, headers: { origin: SITE } });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

function upgrade(id: string, headers: Record<string, string>) {
  return exports.default.fetch(new Request(`${BASE}/runs/${id}/live`, { headers: { upgrade: 'websocket', ...headers } }));
}

async function watch(id: string, headers: Record<string, string>) {
  const res = await upgrade(id, headers);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const state = { messages: 0, closed: undefined as number | undefined };
  ws.addEventListener('message', () => (state.messages += 1));
  ws.addEventListener('close', (e) => (state.closed = e.code));
  ws.accept();
  return { ws, state };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** As if RECHECK_MS had passed since each socket's credential was last checked. */
async function checksDue(tenantId: string, runId: string): Promise<void> {
  await runInDurableObject(stubFor(tenantId, runId), (_i, state) => {
    for (const ws of state.getWebSockets()) ws.serializeAttachment({ ...(ws.deserializeAttachment() as Watcher), checked_at: 0 });
  });
}

async function waitingRun() {
  const t = await newTenant();
  await createRunbook(t.keys.sre, RB);
  const id = await startRun(t.keys.operator, { runbook: 'watched' });
  await driveUntil(t.id, t.keys.operator, id, ['awaiting_approval']);
  return { t, id };
}

const approve = (id: string, step: string, key: string) => api(`/runs/${id}/steps/${step}/approve`, { method: 'POST', key, json: {} });

describe('L6: live sockets end with the credential that opened them', () => {
  it('a revoked key loses its sockets', async () => {
    const { t, id } = await waitingRun();
    const viewer = await json<{ id: string; key: string }>(api('/keys', { method: 'POST', key: t.keys.admin, json: { name: 'watcher', role: 'viewer' } }));
    const live = await watch(id, { authorization: `Bearer ${viewer.key}` });
    await until(() => live.state.messages >= 1);
    expect((await api(`/keys/${viewer.id}`, { method: 'DELETE', key: t.keys.admin })).status).toBe(200);
    await checksDue(t.id, id);
    expect((await approve(id, 'one', t.keys.admin)).status).toBe(200);
    await until(() => live.state.closed !== undefined);
    expect(live.state.closed).toBe(4401);
  });

  it('signing out ends the sockets of that session; another credential keeps watching', async () => {
    const { t, id } = await waitingRun();
    const cookie = await cookieFor(t.keys.viewer);
    const browser = await watch(id, { cookie, origin: SITE });
    const script = await watch(id, { authorization: `Bearer ${t.keys.viewer}` });
    await until(() => browser.state.messages >= 1 && script.state.messages >= 1);
    expect((await api('/session', { method: 'DELETE', headers: { cookie, origin: SITE } })).status).toBe(200);
    await checksDue(t.id, id);
    expect((await approve(id, 'one', t.keys.admin)).status).toBe(200);
    await until(() => browser.state.closed !== undefined);
    expect(browser.state.closed).toBe(4401);
    expect(script.state.closed).toBeUndefined();
    script.ws.close();
  });

  it('an upgrade from another origin is refused; one credential cannot open sockets without end', async () => {
    const { t, id } = await waitingRun();
    const cookie = await cookieFor(t.keys.viewer);
    expect((await upgrade(id, { cookie, origin: 'https://evil.example' })).status).toBe(403);
    expect((await upgrade(id, { cookie, 'sec-fetch-site': 'same-site' })).status).toBe(403);
    const open = [];
    for (let i = 0; i < MAX_WATCHERS_PER_CREDENTIAL; i++) open.push(await watch(id, { authorization: `Bearer ${t.keys.sre}` }));
    const over = await upgrade(id, { authorization: `Bearer ${t.keys.sre}` });
    expect(over.status).toBe(429);
    expect((await json<{ error: { code: string } }>(over)).error.code).toBe('rate_limited');
    // Another credential is not held back by it.
    (await watch(id, { authorization: `Bearer ${t.keys.viewer}` })).ws.close();
    for (const s of open) s.ws.close();
  });
});

describe('L7: what the session cookie authenticates must come from this site', () => {
  it('refuses cross-site changes with the cookie: JSON, text/plain YAML, bodyless POSTs, sign-in', async () => {
    const t = await newTenant();
    const cookie = await cookieFor(t.keys.sre);
    const from = (headers: Record<string, string>) => ({ cookie, ...headers });
    const yaml = RB.replace('name: watched', 'name: forged');
    const forged = await api('/runbooks', { method: 'POST', headers: { ...from({ origin: 'https://evil.example' }), 'content-type': 'text/plain' }, body: yaml });
    expect(forged.status).toBe(403);
    expect((await json<{ error: { message: string } }>(forged)).error.message).toMatch(/Cross-site request refused/);
    expect((await api('/runbooks/forged', { key: t.keys.sre })).status).toBe(404);
    expect((await api('/runs/run_x/cancel', { method: 'POST', headers: from({ 'sec-fetch-site': 'cross-site' }) })).status).toBe(403);
    expect((await api('/keys', { method: 'POST', headers: from({ 'sec-fetch-site': 'same-site' }), json: { name: 'x', role: 'viewer' } })).status).toBe(403);
    // Login CSRF: signing a victim's browser into the attacker's key.
    expect((await api('/session', { method: 'POST', headers: { origin: 'https://evil.example' }, json: { key: t.keys.viewer } })).status).toBe(403);

    // The same requests from the site itself go through; a bearer key is never the browser's doing.
    expect((await api('/runbooks', { method: 'POST', headers: { ...from({ 'sec-fetch-site': 'same-origin' }), 'content-type': 'application/yaml' }, body: yaml })).status).toBe(201);
    expect((await api('/runbooks', { method: 'POST', key: t.keys.sre, headers: { origin: 'https://evil.example' }, yaml: RB })).status).toBe(201);
    expect((await api('/me', { headers: from({ 'sec-fetch-site': 'cross-site' }) })).status).toBe(200);
  });
});
