// Rotating SECRETS_KEY, the key that seals stored credentials: the new key in SECRETS_KEY, the old
// in SECRETS_KEY_PREVIOUS; everything keeps working; POST /secrets/reseal seals every stored secret
// with the new key; then the old key can go, and nothing is lost.
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { registerCluster, getCluster, signingKeyOf } from '../worker/clusters/store';
import { makeDb } from '../worker/db/client';
import { secretChecks } from '../worker/doctor/config-checks';
import type { Env } from '../worker/env';
import { decryptSecret } from '../worker/lib/secrets';
import { decryptedSettings, getIntegration, webhookSecrets } from '../worker/store/integrations';
import { api, newTenant, setEnv, undoAll, type TestTenant } from './helpers';

const workerEnv = env as unknown as Env;
afterEach(undoAll);

function newKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

const rnd = () => crypto.randomUUID().replace(/-/g, '');

/** A tenant with one of each stored secret: Jira credentials and webhook secret, a cluster, an OIDC client secret. */
async function plant(t: TestTenant) {
  const secrets = { jiraToken: `jira-token-${rnd()}`, webhookSecret: `whsec-${rnd()}`, oidcSecret: `oidc-${rnd()}` };
  const jira = await api('/integrations/jira', {
    method: 'PUT',
    key: t.keys.admin,
    json: { mode: 'live', base_url: 'https://jira.example.test', credentials: { email: 'bot@acme.test', api_token: secrets.jiraToken }, webhook_secret: secrets.webhookSecret },
  });
  expect(jira.status, await jira.clone().text()).toBe(200);
  // A webhook secret changed since: the first one is still accepted during its overlap, so it is stored too.
  const rotated = await api('/integrations/jira', { method: 'PUT', key: t.keys.admin, json: { webhook_secret: `${secrets.webhookSecret}-new` } });
  expect(rotated.status, await rotated.clone().text()).toBe(200);
  const settings = await api('/settings', {
    method: 'PUT',
    key: t.keys.admin,
    json: { oidc: { issuer: 'https://idp.example.com', client_id: 'agentrunbook', client_secret: secrets.oidcSecret, role_mapping: { ops: 'sre' } } },
  });
  expect(settings.status, await settings.clone().text()).toBe(200);
  await registerCluster(workerEnv, makeDb(env.DB), { tenantId: t.id, name: 'rotate-eu', createdBy: 'test' });
  return secrets;
}

/** Every stored secret of the tenant, opened with the keys the environment holds now. */
async function openAll(t: TestTenant) {
  const db = makeDb(env.DB);
  const row = (await getIntegration(db, t.id, 'jira'))!;
  const settings = await env.DB.prepare('SELECT settings FROM tenants WHERE id = ?').bind(t.id).first<{ settings: string }>();
  const oidcEnc = (JSON.parse(settings!.settings) as { oidc: { client_secret_enc: string } }).oidc.client_secret_enc;
  return {
    jiraToken: ((await decryptedSettings(workerEnv, row))!.credentials as { api_token: string }).api_token,
    webhookSecrets: await webhookSecrets(workerEnv, row),
    oidcSecret: await decryptSecret(workerEnv, t.id, oidcEnc),
    clusterKey: await signingKeyOf(workerEnv, (await getCluster(db, t.id, 'rotate-eu'))!),
  };
}

async function reseal(key: string) {
  const res = await api('/secrets/reseal', { method: 'POST', key });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { checked: number; resealed: number; unreadable: { tenant_id: string; what: string; fix: string }[] } };
}

describe('SECRETS_KEY rotation', () => {
  it('both keys open stored secrets during the rotation; the reseal moves them all to the new key; then the old key can go', async () => {
    const t = await newTenant();
    const secrets = await plant(t);
    const before = await openAll(t);
    expect(before).toMatchObject({ jiraToken: secrets.jiraToken, oidcSecret: secrets.oidcSecret, webhookSecrets: [`${secrets.webhookSecret}-new`, secrets.webhookSecret] });

    // Rotate: the new key seals, the old one still opens.
    const oldKey = workerEnv.SECRETS_KEY!;
    setEnv({ SECRETS_KEY: newKey(), SECRETS_KEY_PREVIOUS: oldKey });
    expect(await openAll(t)).toEqual(before);
    const doctor = await secretChecks(workerEnv, { local: false });
    expect(doctor.find((c) => c.id === 'secret.SECRETS_KEY_PREVIOUS')).toMatchObject({ status: 'warn', fix: expect.stringContaining('POST /api/v1/secrets/reseal') });

    const first = await reseal(t.keys.admin);
    expect(first.status, first.text).toBe(200);
    expect(first.body.resealed).toBeGreaterThanOrEqual(5);
    expect(first.body.checked).toBeGreaterThanOrEqual(first.body.resealed);
    expect(first.body.unreadable.filter((u) => u.tenant_id === t.id)).toEqual([]);
    for (const value of [...Object.values(secrets), oldKey, workerEnv.SECRETS_KEY!]) expect(first.text).not.toContain(value);

    // Again: nothing left to move.
    expect((await reseal(t.keys.admin)).body.resealed).toBe(0);

    // The old key is deleted: every secret still opens, with the new key alone.
    setEnv({ SECRETS_KEY_PREVIOUS: '' });
    expect(await openAll(t)).toEqual(before);

    // The reseal is in the audit log, by counts.
    const audited = await api('/audit?action=secrets.resealed', { key: t.keys.admin });
    const items = ((await audited.json()) as { items: { data: Record<string, unknown> }[] }).items;
    expect(items.map((e) => e.data.resealed as number).sort((a, b) => a - b)).toEqual([0, first.body.resealed]);
    for (const e of items) expect(e.data).toMatchObject({ checked: expect.any(Number), unreadable: first.body.unreadable.length, previous_key_set: true });
  });

  it('without the previous key the old secrets do not open; a reseal names each one and how to enter it again', async () => {
    const t = await newTenant();
    await plant(t);
    // The key is replaced without keeping the old one (the mistake a rotation guards against).
    setEnv({ SECRETS_KEY: newKey() });
    await expect(openAll(t)).rejects.toThrow();
    const res = await reseal(t.keys.admin);
    expect(res.status, res.text).toBe(200);
    const mine = res.body.unreadable.filter((u) => u.tenant_id === t.id);
    expect(mine.map((u) => u.what).sort()).toEqual([
      'cluster rotate-eu signing key',
      'integration jira credentials',
      'integration jira previous webhook secret',
      'integration jira webhook secret',
      'oidc client secret',
    ]);
    expect(mine.find((u) => u.what === 'integration jira previous webhook secret')?.fix).toMatch(/^none needed: it stops being accepted at \d{4}-/);
    expect(mine.find((u) => u.what === 'integration jira credentials')?.fix).toBe('PUT /api/v1/integrations/jira with the credentials again');
    expect(res.body.resealed).toBe(0);
  });

  it('a malformed key is the installation\'s problem: the reseal answers 503 naming it, and changes nothing', async () => {
    const t = await newTenant();
    await plant(t);
    const stored = () => env.DB.prepare('SELECT credentials_enc FROM integrations WHERE tenant_id = ?').bind(t.id).first<{ credentials_enc: string }>();
    const before = await stored();
    setEnv({ SECRETS_KEY: newKey(), SECRETS_KEY_PREVIOUS: 'c2hvcnQ=' });
    const res = await reseal(t.keys.admin);
    expect(res.status, res.text).toBe(503);
    expect(res.text).toContain('SECRETS_KEY_PREVIOUS must be 32 bytes');
    expect(res.text).not.toContain('c2hvcnQ=');
    expect(await stored()).toEqual(before);
  });

  it('only the platform owner may reseal: 403 for the admin of a tenant the owner created, and for other roles', async () => {
    const owner = await newTenant();
    const created = await api('/tenants', { method: 'POST', key: owner.keys.admin, json: { name: `reseal-guest-${rnd().slice(0, 8)}` } });
    expect(created.status).toBe(201);
    const guest = (await created.json()) as { admin_key: string };
    expect((await reseal(guest.admin_key)).status).toBe(403);
    for (const role of ['viewer', 'operator', 'sre'] as const) expect((await reseal(owner.keys[role])).status, role).toBe(403);
    expect((await api('/secrets/reseal', { method: 'POST' })).status).toBe(401);
  });

  it('a malformed previous key fails the doctor with what to put there', async () => {
    const checks = await secretChecks({ ...workerEnv, SECRETS_KEY_PREVIOUS: 'c2hvcnQ=' }, { local: false });
    expect(checks.find((c) => c.id === 'secret.SECRETS_KEY_PREVIOUS')).toMatchObject({ status: 'fail', message: 'SECRETS_KEY_PREVIOUS does not decode to 32 bytes of base64' });
    expect(JSON.stringify(checks)).not.toContain('c2hvcnQ=');
  });
});
