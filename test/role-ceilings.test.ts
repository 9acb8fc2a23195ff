import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import { createApiKey } from '../worker/auth/keys';
import { makeDb } from '../worker/db/client';
import { api, json, newTenant, setEnv, undoAll, type TestTenant } from './helpers';
import { browserSignIn, fakeIssuer, useIssuer } from './oidc-flow';

afterEach(undoAll);

/** The default policy with `manage` given to sre: the case where ceilings matter (M5). */
async function sreManages(t: TestTenant): Promise<void> {
  const yaml = defaultPolicy.replace('sre:      { run: true, approve: true, tools: ["*"] }', 'sre:      { run: true, approve: true, manage: true, tools: ["*"] }');
  expect(yaml).not.toBe(defaultPolicy);
  const created = await json<{ id: string }>(api('/policies', { method: 'POST', key: t.keys.admin, yaml }));
  expect((await api(`/policies/${created.id}/activate`, { method: 'POST', key: t.keys.admin, json: {} })).status).toBe(200);
}

const errorOf = async (res: Response) => (await json<{ error: { code: string; message: string; details?: { path: string }[] } }>(res)).error;
const keyId = async (t: TestTenant, name: string) => (await json<{ items: { id: string; name: string }[] }>(api('/keys', { key: t.keys.admin }))).items.find((k) => k.name === name)!.id;

describe('nobody grants a role above their own (M5)', () => {
  it('rotating a key of a higher role is refused: the replacement would carry that role', async () => {
    const t = await newTenant();
    await sreManages(t);
    const other = await createApiKey(makeDb(env.DB), { tenantId: t.id, name: 'other-admin', role: 'admin', createdBy: 'test' });
    const res = await api(`/keys/${other.id}/rotate`, { method: 'POST', key: t.keys.sre, json: {} });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/may not rotate a key with role "admin"/);
    // Nor may it be revoked from below; a peer's key may.
    expect((await api(`/keys/${other.id}`, { method: 'DELETE', key: t.keys.sre })).status).toBe(403);
    expect((await api(`/keys/${await keyId(t, 'operator')}/rotate`, { method: 'POST', key: t.keys.sre, json: {} })).status).toBe(201);
  });

  it('an OIDC role_mapping or default_role above the caller is refused; entries an admin set stand', async () => {
    const t = await newTenant();
    const issuer = await fakeIssuer();
    await useIssuer(t, issuer, { role_mapping: { 'sre-team': 'sre', admins: 'admin' } });
    await sreManages(t);
    const oidc = { issuer: issuer.issuer, client_id: 'agentrunbook', role_mapping: { 'sre-team': 'sre', admins: 'admin' } };
    const put = (o: Record<string, unknown>) => api('/settings', { method: 'PUT', key: t.keys.sre, json: { oidc: { ...oidc, ...o } } });
    const byGroup = await put({ role_mapping: { ...oidc.role_mapping, mine: 'admin' } });
    expect(byGroup.status).toBe(403);
    expect((await errorOf(byGroup)).details).toEqual([expect.objectContaining({ path: 'oidc.role_mapping.mine' })]);
    const byDefault = await put({ default_role: 'admin' });
    expect(byDefault.status).toBe(403);
    expect((await errorOf(byDefault)).details).toEqual([expect.objectContaining({ path: 'oidc.default_role' })]);
    // The same group names at an issuer the caller controls are new grants.
    expect((await put({ issuer: 'https://idp.elsewhere.test' })).status).toBe(403);
    // Keeping what an admin set, and granting up to one's own role, is fine.
    expect((await put({ role_mapping: { ...oidc.role_mapping, ops: 'operator' } })).status).toBe(200);
  });

  it("a webhook source's run_as_role above the caller is refused, and so is changing a source that runs above it", async () => {
    const t = await newTenant();
    await sreManages(t);
    const put = (key: string, body: Record<string, unknown>) => api('/integrations/generic', { method: 'PUT', key, json: { webhook_secret: 'ceiling-secret-0123456789', ...body } });
    const res = await put(t.keys.sre, { run_as_role: 'admin' });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).details).toEqual([expect.objectContaining({ path: 'run_as_role' })]);
    expect((await put(t.keys.sre, { run_as_role: 'sre' })).status).toBe(200);
    expect((await put(t.keys.admin, { run_as_role: 'admin' })).status).toBe(200);
    // A new secret for an admin-acting source would hand its power to whoever knows the secret.
    expect((await put(t.keys.sre, { webhook_secret: 'mine-now-0123456789abcdef' })).status).toBe(403);
  });

  it('PUT /people: not above one\'s own role, not for someone above it, not for a person whose groups give the role', async () => {
    const t = await newTenant();
    const issuer = await fakeIssuer();
    await useIssuer(t, issuer);
    await sreManages(t);
    const put = (key: string, email: string, role: string) => api(`/people/${encodeURIComponent(email)}`, { method: 'PUT', key, json: { role } });
    expect((await put(t.keys.sre, 'chat@example.com', 'admin')).status).toBe(403);
    expect((await put(t.keys.admin, 'boss@example.com', 'admin')).status).toBe(200);
    expect((await put(t.keys.sre, 'boss@example.com', 'viewer')).status).toBe(403);
    issuer.user = { sub: 'u-grace', email: 'grace@example.com', groups: ['sre-team'] };
    await browserSignIn(t);
    const mapped = await put(t.keys.admin, 'grace@example.com', 'viewer');
    expect(mapped.status).toBe(409);
    expect((await errorOf(mapped)).message).toMatch(/identity provider groups/);
  });

  it('POST /keys for someone else is an admin\'s act (a key "for" an invented person would count as a second person)', async () => {
    const t = await newTenant();
    await sreManages(t);
    const res = await api('/keys', { method: 'POST', key: t.keys.sre, json: { name: 'alias', role: 'sre', owner: 'invented@example.com' } });
    expect(res.status).toBe(403);
    expect((await api('/keys', { method: 'POST', key: t.keys.sre, json: { name: 'mine', role: 'sre' } })).status).toBe(201);
    const bad = await api('/keys', { method: 'POST', key: t.keys.admin, json: { name: 'x', role: 'sre', owner: 'not an email' } });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).details).toEqual([expect.objectContaining({ path: 'owner' })]);
  });
});

describe("the platform owner's powers", () => {
  it("L12: another admin of the first tenant cannot revoke (or rotate) the platform owner's key", async () => {
    const t = await newTenant();
    const second = await createApiKey(makeDb(env.DB), { tenantId: t.id, name: 'second-admin', role: 'admin', createdBy: 'test' });
    const ownerKey = await keyId(t, 'admin');
    const res = await api(`/keys/${ownerKey}`, { method: 'DELETE', key: second.key });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/Only the platform owner may revoke a platform-owner key/);
    expect((await api(`/keys/${ownerKey}/rotate`, { method: 'POST', key: second.key, json: {} })).status).toBe(403);
    expect((await api('/me', { key: t.keys.admin })).status).toBe(200);
  });

  it('L9: once tenants exist, BOOTSTRAP_TOKEN mints no key; the platform owner\'s own key is still accepted', async () => {
    const t = await newTenant();
    setEnv({ BOOTSTRAP_TOKEN: 'bootstrap-token-for-this-test' });
    const boot = (admin_key: string) =>
      api('/bootstrap', { method: 'POST', headers: { 'x-bootstrap-token': 'bootstrap-token-for-this-test' }, json: { admin_key, samples: false } });
    const minted = `ark_${'b'.repeat(30)}`;
    const res = await boot(minted);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).details).toEqual([expect.objectContaining({ path: 'admin_key' })]);
    expect((await api('/me', { key: minted })).status).toBe(401);
    const again = await boot(t.keys.admin);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ created: false, key_added: false });
  });
});
