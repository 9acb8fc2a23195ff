import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json, newTenant, type TestTenant } from './helpers';

interface KeyView {
  id: string;
  name: string;
  role: string;
  last_used_at: string | null;
  revoked_at: string | null;
  expires_at: string | null;
  rotated_from: string | null;
}

interface Rotated {
  id: string;
  key: string;
  name: string;
  role: string;
  rotated_from: string;
  old_key_expires_at: string;
}

async function newKey(t: TestTenant, role = 'operator', name = 'ci'): Promise<{ id: string; key: string }> {
  const res = await api('/keys', { method: 'POST', key: t.keys.admin, json: { name, role } });
  expect(res.status).toBe(201);
  return json(res);
}

async function listKeys(t: TestTenant): Promise<KeyView[]> {
  return (await json<{ items: KeyView[] }>(api('/keys', { key: t.keys.admin }))).items;
}

/** Signs in with a key like the web UI does and returns the cookie. */
async function sessionFor(key: string): Promise<string> {
  const res = await api('/session', { method: 'POST', json: { key } });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

async function errorOf(res: Response): Promise<{ code: string; message: string; details?: { path: string; message: string }[] }> {
  return (await json<{ error: { code: string; message: string; details?: { path: string; message: string }[] } }>(res)).error;
}

describe('API key rotation', () => {
  it('rotates with a grace period: both keys work until the grace ends, then the old one answers 401', async () => {
    const t = await newTenant();
    const old = await newKey(t);
    const oldSession = await sessionFor(old.key);
    const before = Date.now();

    const res = await api(`/keys/${old.id}/rotate`, { method: 'POST', key: t.keys.admin, json: { grace: '1h' } });
    expect(res.status).toBe(201);
    const rotated = await json<Rotated>(res);
    expect(rotated).toMatchObject({ name: 'ci', role: 'operator', rotated_from: old.id });
    expect(rotated.key).toMatch(/^ark_[a-z0-9]{40}$/);
    expect(rotated.id).not.toBe(old.id);
    const expires = Date.parse(rotated.old_key_expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1000);

    expect((await api('/me', { key: old.key })).status).toBe(200);
    expect((await api('/me', { headers: { cookie: oldSession } })).status).toBe(200);
    const me = await json<{ key: { id: string; role: string } }>(api('/me', { key: rotated.key }));
    expect(me.key).toMatchObject({ id: rotated.id, role: 'operator' });

    const keys = await listKeys(t);
    expect(keys.find((k) => k.id === old.id)).toMatchObject({ expires_at: rotated.old_key_expires_at, rotated_from: null, revoked_at: null });
    expect(keys.find((k) => k.id === rotated.id)).toMatchObject({ expires_at: null, rotated_from: old.id, name: 'ci' });
    expect(JSON.stringify(keys)).not.toContain(rotated.key);

    // The grace period ends (moved into the past rather than waited for).
    await env.DB.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?').bind(new Date(Date.now() - 1000).toISOString(), old.id).run();
    const expired = await api('/me', { key: old.key });
    expect(expired.status).toBe(401);
    expect((await errorOf(expired)).message).toMatch(/expired.*rotated/);
    expect((await api('/me', { headers: { cookie: oldSession } })).status).toBe(401);
    expect((await api('/session', { method: 'POST', json: { key: old.key } })).status).toBe(401);
    expect((await api('/me', { key: rotated.key })).status).toBe(200);

    const [entry] = (await json<{ items: { data: Record<string, unknown> }[] }>(api('/audit?action=key.rotated', { key: t.keys.admin }))).items;
    expect(entry!.data).toMatchObject({ rotated_from: old.id, grace: '1h', old_key_expires_at: rotated.old_key_expires_at });
    expect(JSON.stringify(entry)).not.toContain(rotated.key);
  });

  it('without a grace period (an empty body is fine) the old key stops at once', async () => {
    const t = await newTenant();
    const old = await newKey(t);
    const res = await api(`/keys/${old.id}/rotate`, { method: 'POST', key: t.keys.admin });
    expect(res.status).toBe(201);
    const rotated = await json<Rotated>(res);
    expect(Date.parse(rotated.old_key_expires_at)).toBeLessThanOrEqual(Date.now());
    expect((await api('/me', { key: old.key })).status).toBe(401);
    expect((await api('/me', { key: rotated.key })).status).toBe(200);
  });

  it.each([
    [{ grace: '8d' }, 'grace', /at most 7d/],
    [{ grace: 'soon' }, 'grace', /not a duration/],
    [{ grace: '1h', keep: true }, '(body)', /keep/],
  ])('refuses %j with 400 naming %s', async (body, path, message) => {
    const t = await newTenant();
    const old = await newKey(t);
    const res = await api(`/keys/${old.id}/rotate`, { method: 'POST', key: t.keys.admin, json: body });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.details![0]).toMatchObject({ path });
    expect(JSON.stringify(err)).toMatch(message);
    expect((await api('/me', { key: old.key })).status).toBe(200);
  });

  it('a key is rotated once (then its replacement is); revoked and other tenants\' keys answer 404', async () => {
    const t = await newTenant();
    const other = await newTenant();
    const old = await newKey(t);
    expect((await api(`/keys/${old.id}/rotate`, { method: 'POST', key: t.keys.admin, json: { grace: '10m' } })).status).toBe(201);
    const twice = await api(`/keys/${old.id}/rotate`, { method: 'POST', key: t.keys.admin, json: { grace: '10m' } });
    expect(twice.status).toBe(409);
    expect((await errorOf(twice)).message).toMatch(/already rotated/);
    expect((await api(`/keys/${old.id}/rotate`, { method: 'POST', key: other.keys.admin, json: {} })).status).toBe(404);

    const revoked = await newKey(t);
    expect((await api(`/keys/${revoked.id}`, { method: 'DELETE', key: t.keys.admin })).status).toBe(200);
    expect((await api(`/keys/${revoked.id}/rotate`, { method: 'POST', key: t.keys.admin, json: {} })).status).toBe(404);
    expect((await api('/keys/key_unknown/rotate', { method: 'POST', key: t.keys.admin, json: {} })).status).toBe(404);
  });

  it('only the platform owner may rotate a platform-owner key; the replacement keeps that power', async () => {
    const t = await newTenant(); // its admin key is the platform owner's
    const ownerKeyId = (await json<{ key: { id: string } }>(api('/me', { key: t.keys.admin }))).key.id;
    const otherAdmin = await newKey(t, 'admin', 'second-admin');
    const refused = await api(`/keys/${ownerKeyId}/rotate`, { method: 'POST', key: otherAdmin.key, json: {} });
    expect(refused.status).toBe(403);
    expect((await api('/me', { key: t.keys.admin })).status).toBe(200);

    const rotated = await json<Rotated>(api(`/keys/${ownerKeyId}/rotate`, { method: 'POST', key: t.keys.admin, json: { grace: '5m' } }));
    expect((await api('/tenants', { method: 'POST', key: rotated.key, json: { name: 'made-by-rotated-owner-key' } })).status).toBe(201);
  });
});

describe('API key revocation and use', () => {
  it('revocation is immediate and ends the sessions opened with the key', async () => {
    const t = await newTenant();
    const k = await newKey(t, 'sre');
    const cookie = await sessionFor(k.key);
    const sessionId = (await json<{ session: { id: string } }>(api('/me', { headers: { cookie } }))).session.id;
    expect((await api('/me', { headers: { cookie } })).status).toBe(200);

    const res = await api(`/keys/${k.id}`, { method: 'DELETE', key: t.keys.admin });
    expect(res.status).toBe(200);
    expect((await json<KeyView>(res)).revoked_at).not.toBeNull();

    const bearer = await api('/me', { key: k.key });
    expect(bearer.status).toBe(401);
    expect((await errorOf(bearer)).message).toMatch(/revoked/);
    expect((await api('/me', { headers: { cookie } })).status).toBe(401);
    const row = await env.DB.prepare('SELECT revoked_at FROM sessions WHERE id = ?').bind(sessionId).first<{ revoked_at: string | null }>();
    expect(row!.revoked_at).not.toBeNull();
    // Other keys' sessions are untouched.
    const otherCookie = await sessionFor(t.keys.viewer);
    expect((await api('/me', { headers: { cookie: otherCookie } })).status).toBe(200);
  });

  it('last_used_at is recorded on use, at most once a minute', async () => {
    const t = await newTenant();
    const k = await newKey(t);
    expect((await listKeys(t)).find((x) => x.id === k.id)!.last_used_at).toBeNull();
    await api('/me', { key: k.key });
    const first = (await listKeys(t)).find((x) => x.id === k.id)!.last_used_at;
    expect(first).not.toBeNull();
    expect(Date.now() - Date.parse(first!)).toBeLessThan(60_000);
    await api('/me', { key: k.key });
    await api('/me', { key: k.key });
    expect((await listKeys(t)).find((x) => x.id === k.id)!.last_used_at).toBe(first);
  });

  it('non-admins get 403 on every key-management route', async () => {
    const t = await newTenant();
    const target = await newKey(t);
    for (const role of ['viewer', 'operator', 'sre'] as const) {
      const calls: [string, RequestInit & { json?: unknown }][] = [
        ['/keys', { method: 'GET' }],
        ['/keys', { method: 'POST', json: { name: 'x', role: 'viewer' } }],
        [`/keys/${target.id}`, { method: 'DELETE' }],
        [`/keys/${target.id}/rotate`, { method: 'POST', json: { grace: '1h' } }],
      ];
      for (const [path, init] of calls) {
        const res = await api(path, { ...init, key: t.keys[role] });
        expect(res.status, `${role} ${init.method} ${path}`).toBe(403);
        expect((await errorOf(res)).code).toBe('forbidden');
      }
    }
    expect((await api('/me', { key: target.key })).status).toBe(200);
    expect((await listKeys(t)).find((x) => x.id === target.id)).toMatchObject({ revoked_at: null, expires_at: null });
  });
});
