import { describe, expect, it } from 'vitest';
import { api, json, newTenant } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

const RB = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: check-site }
spec:
  steps:
    - id: check
      tool: core.http_check
      with: { url: 'https://status.example.com/' }
`;

describe('tenancy and keys', () => {
  it("another tenant's runbook, run and key answer 404, never 403", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const rb = await createRunbook(a.keys.sre, RB);
    const runId = await startRun(a.keys.sre, { runbook: 'check-site' });
    await driveUntil(a.id, a.keys.sre, runId, ['succeeded']);

    for (const path of [`/runbooks/${rb.id}`, `/runbooks/check-site`, `/runs/${runId}`, `/runs/${runId}/events`]) {
      const res = await api(path, { key: b.keys.admin });
      expect(res.status, path).toBe(404);
      expect((await json<{ error: { message: string } }>(res)).error.message).not.toContain(a.id);
    }
    expect((await api(`/runs/${runId}/cancel`, { method: 'POST', key: b.keys.admin, json: {} })).status).toBe(404);
    expect((await api(`/runs/${runId}/steps/check/approve`, { method: 'POST', key: b.keys.admin, json: {} })).status).toBe(404);
    expect((await api('/runs', { method: 'POST', key: b.keys.admin, json: { runbook: 'check-site' } })).status).toBe(400);
    const list = await json<{ items: { id: string }[] }>(api('/runs', { key: b.keys.admin }));
    expect(list.items.map((r) => r.id)).not.toContain(runId);
    const audit = await json<{ items: { resource: { id: string } }[] }>(api('/audit?limit=1000', { key: b.keys.admin }));
    expect(audit.items.some((e) => e.resource.id === runId)).toBe(false);

    const keys = await json<{ items: { id: string }[] }>(api('/keys', { key: a.keys.admin }));
    const someKey = keys.items[0]!.id;
    expect((await api(`/keys/${someKey}`, { method: 'DELETE', key: b.keys.admin })).status).toBe(404);
  });

  it('keys are shown once, stored hashed, listed without the secret, and revocation takes effect at once', async () => {
    const t = await newTenant();
    const created = await api('/keys', { method: 'POST', key: t.keys.admin, json: { name: 'ci', role: 'operator' } });
    expect(created.status).toBe(201);
    const { id, key } = await json<{ id: string; key: string }>(created);
    expect(key).toMatch(/^ark_[a-z0-9]{40}$/);
    expect((await api('/me', { key })).status).toBe(200);
    const listed = await api('/keys', { key: t.keys.admin });
    expect(await listed.text()).not.toContain(key);
    expect((await api(`/keys/${id}`, { method: 'DELETE', key: t.keys.admin })).status).toBe(200);
    expect((await api('/me', { key })).status).toBe(401);
    expect((await api(`/keys/${id}`, { method: 'DELETE', key: t.keys.admin })).status).toBe(404);
  });

  it('roles: viewer reads only, operator runs, sre writes runbooks, admin manages keys and policies', async () => {
    const t = await newTenant();
    expect((await api('/runbooks', { method: 'POST', key: t.keys.operator, yaml: RB })).status).toBe(403);
    expect((await api('/runbooks', { method: 'POST', key: t.keys.viewer, yaml: RB })).status).toBe(403);
    await createRunbook(t.keys.sre, RB);
    expect((await api('/runbooks', { key: t.keys.viewer })).status).toBe(200);
    expect((await api('/runs', { method: 'POST', key: t.keys.viewer, json: { runbook: 'check-site' } })).status).toBe(403);
    expect((await api('/runs', { method: 'POST', key: t.keys.operator, json: { runbook: 'check-site' } })).status).toBe(201);
    for (const role of ['viewer', 'operator', 'sre'] as const) {
      const res = await api('/keys', { method: 'POST', key: t.keys[role], json: { name: 'x', role: 'admin' } });
      expect(res.status, role).toBe(403);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('forbidden');
      expect((await api('/policies', { method: 'POST', key: t.keys[role], yaml: 'x: 1' })).status, role).toBe(403);
    }
    expect((await api('/tenants', { method: 'POST', key: t.keys.sre, json: { name: 'x' } })).status).toBe(403);
  });

  it('the platform owner creates tenants whose admin key works only in the new tenant', async () => {
    const owner = await newTenant();
    const res = await api('/tenants', { method: 'POST', key: owner.keys.admin, json: { name: 'acme' } });
    expect(res.status).toBe(201);
    const t = await json<{ id: string; admin_key: string }>(res);
    const me = await json<{ tenant: { id: string; name: string }; key: { role: string } }>(api('/me', { key: t.admin_key }));
    expect(me).toMatchObject({ tenant: { id: t.id, name: 'acme' }, key: { role: 'admin' } });
    expect((await api('/tenants', { method: 'POST', key: t.admin_key, json: { name: 'nope' } })).status).toBe(403);
  });

  it('a session cookie from POST /session authenticates, and sign-out clears it', async () => {
    const t = await newTenant();
    const bad = await api('/session', { method: 'POST', json: { key: 'ark_wrongwrongwrongwrongwrong' } });
    expect(bad.status).toBe(401);
    const res = await api('/session', { method: 'POST', json: { key: t.keys.sre } });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/arb_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const session = cookie.split(';')[0]!;
    const me = await api('/me', { headers: { cookie: session } });
    expect(me.status).toBe(200);
    expect((await json<{ key: { role: string } }>(me)).key.role).toBe('sre');
    expect((await api('/me', { headers: { cookie: 'arb_session=forged.token.value' } })).status).toBe(401);
  });

  it('GET /session answers 200 signed in or not (a signed-out page load is no error); a dead cookie is cleared', async () => {
    const t = await newTenant();
    expect(await json(api('/session'))).toEqual({ signed_in: false });
    const cookie = (await api('/session', { method: 'POST', json: { key: t.keys.operator } })).headers.get('set-cookie')!.split(';')[0]!;
    const state = await json<{ signed_in: boolean; me?: { tenant: { id: string }; key: { role: string } } }>(api('/session', { headers: { cookie } }));
    expect(state).toMatchObject({ signed_in: true, me: { tenant: { id: t.id }, key: { role: 'operator' } } });
    const forged = await api('/session', { headers: { cookie: 'arb_session=forged.token.value' } });
    expect(forged.status).toBe(200);
    expect(await json(forged)).toMatchObject({ signed_in: false, reason: expect.stringMatching(/invalid or expired/) });
    expect(forged.headers.get('set-cookie')).toMatch(/arb_session=;/);
    await api('/session', { method: 'DELETE', headers: { cookie } });
    expect(await json(api('/session', { headers: { cookie } }))).toMatchObject({ signed_in: false });
  });
});

describe('bad input gets a clear 4xx naming the field', () => {
  it('POST /runs with wrong types and unknown fields → 400 with paths', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, RB);
    const res = await api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'check-site', mode: 'yolo', extra: 1 } });
    expect(res.status).toBe(400);
    const body = await json<{ error: { code: string; details: { path: string }[] } }>(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((d) => d.path)).toEqual(expect.arrayContaining(['mode']));
  });

  it('malformed JSON → 400, not 500', async () => {
    const t = await newTenant();
    const res = await api('/runs', { method: 'POST', key: t.keys.sre, body: '{"runbook":', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe('bad_request');
  });

  it('missing required input → 400 naming inputs.<name>; unknown runbook → 400 naming runbook', async () => {
    const t = await newTenant();
    await createRunbook(
      t.keys.sre,
      RB.replace('name: check-site', 'name: needs-input').replace('spec:\n', "spec:\n  inputs:\n    node: { type: string, required: true }\n"),
    );
    const res = await api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'needs-input' } });
    expect(res.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(res)).error.details[0]!.path).toBe('inputs.node');
    const unknown = await api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'nope' } });
    expect((await json<{ error: { details: { path: string }[] } }>(unknown)).error.details[0]!.path).toBe('runbook');
  });

  it('oversized bodies are refused with 413', async () => {
    const t = await newTenant();
    const res = await api('/runbooks', { method: 'POST', key: t.keys.sre, yaml: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
  });

  it('wrong content type → 415', async () => {
    const t = await newTenant();
    const res = await api('/runbooks', { method: 'POST', key: t.keys.sre, body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
  });
});
