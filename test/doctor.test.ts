import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registerCluster } from '../worker/clusters/store';
import { makeDb } from '../worker/db/client';
import type { Check } from '../worker/doctor/check';
import { bindingChecks, llmCheck, secretChecks } from '../worker/doctor/config-checks';
import { runDoctor, type DoctorReport } from '../worker/doctor';
import { EXPECTED_MIGRATIONS, migrationCheck } from '../worker/doctor/migrations';
import { integrationChecks } from '../worker/doctor/tenant-checks';
import type { Env } from '../worker/env';
import { api, json, newTenant } from './helpers';

const workerEnv = env as unknown as Env;
const DEPLOYED = { local: false };
const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id);

/** Every secret value of the test environment, whole and (for the JSON one) its parts. */
function secretValues(e: Env): string[] {
  const names = ['AUDIT_HMAC_KEYS', 'SESSION_SECRET', 'SECRETS_KEY', 'AUDIT_SIGNING_KEY', 'METRICS_TOKEN', 'BOOTSTRAP_TOKEN', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY'] as const;
  const values = names.map((n) => e[n]).filter((v): v is string => Boolean(v));
  return [...values, ...Object.values(JSON.parse(e.AUDIT_HMAC_KEYS ?? '{}') as Record<string, string>)];
}

describe('GET /doctor', () => {
  it('answers a tenant admin with every check ok; on a deployed host only the stub LLM provider is a warning', async () => {
    const t = await newTenant();
    // A loopback host is how `npm start` is reached: everything the test environment configures is ok.
    const local = await exports.default.fetch(new Request('http://localhost:8787/api/v1/doctor', { headers: { authorization: `Bearer ${t.keys.admin}` } }));
    expect(local.status).toBe(200);
    const report = await json<DoctorReport>(local);
    expect(report.checks.filter((c) => c.status !== 'ok'), 'checks that are not ok').toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining(['binding.DB', 'binding.RUNS', 'binding.AUDIT', 'binding.LIMITER', 'binding.CLUSTERS', 'binding.ASSETS', 'secret.AUDIT_HMAC_KEYS', 'secret.SESSION_SECRET', 'secret.SECRETS_KEY', 'secret.AUDIT_SIGNING_KEY', 'secret.METRICS_TOKEN', 'secret.BOOTSTRAP_TOKEN', 'migrations', 'llm.provider', 'otlp', 'integrations', 'clusters']),
    );
    expect(report.scope).toBe('installation');
    expect(report.migrations!.applied).toEqual(report.migrations!.expected);

    // Any other host is a deployment, where the tests' pinned stub provider means agents call no model.
    const deployed = await json<DoctorReport>(api('/doctor', { key: t.keys.admin }));
    expect(deployed.checks.filter((c) => c.status !== 'ok').map((c) => [c.id, c.status])).toEqual([['llm.provider', 'warn']]);
    expect(byId(deployed.checks, 'llm.provider')?.fix).toContain('LLM_PROVIDER');
    expect(deployed.ok).toBe(true);
  });

  it('no key → 401; operator → 403; the answer never contains a secret value', async () => {
    const t = await newTenant();
    expect((await api('/doctor')).status).toBe(401);
    for (const role of ['viewer', 'operator', 'sre'] as const) expect((await api('/doctor', { key: t.keys[role] })).status, role).toBe(403);
    const text = await (await api('/doctor', { key: t.keys.admin })).text();
    for (const secret of secretValues(workerEnv)) expect(text.includes(secret), 'a secret value in the report').toBe(false);
    expect(text).not.toContain(t.keys.admin);
  });

  it('the admin of a tenant the platform owner created sees its own integrations and relays, nothing of the installation', async () => {
    const owner = await newTenant();
    const created = await api('/tenants', { method: 'POST', key: owner.keys.admin, json: { name: `doctor-guest-${Date.now()}` } });
    expect(created.status).toBe(201);
    const guest = (await created.json()) as { id: string; admin_key: string };
    await registerCluster(workerEnv, makeDb(env.DB), { tenantId: guest.id, name: 'guest-eu', createdBy: 'test' });
    const res = await exports.default.fetch(new Request('http://localhost:8787/api/v1/doctor', { headers: { authorization: `Bearer ${guest.admin_key}` } }));
    expect(res.status).toBe(200);
    const report = await json<DoctorReport>(res);
    expect(report.scope).toBe('tenant');
    expect(report.migrations).toBeUndefined();
    expect(report.checks.map((c) => c.id).sort()).toEqual(['cluster.guest-eu', 'integrations']);
    const text = JSON.stringify(report);
    for (const name of ['SECRETS_KEY', 'AUDIT_HMAC_KEYS', 'AUDIT_SIGNING_KEY', 'SESSION_SECRET', 'LLM_PROVIDER', 'binding.', 'd1_migrations']) expect(text, name).not.toContain(name);
    // The platform owner still gets the whole installation.
    expect((await json<DoctorReport>(api('/doctor', { key: owner.keys.admin }))).scope).toBe('installation');
  });

  it('a missing or malformed secret fails with the command that sets it, without echoing the value', async () => {
    const broken: Env = { ...workerEnv, SECRETS_KEY: undefined, SESSION_SECRET: undefined, AUDIT_HMAC_KEYS: '{"k1": not-json-hunter2}', METRICS_TOKEN: undefined, BOOTSTRAP_TOKEN: 'still-here-hunter2' };
    const checks = await secretChecks(broken, DEPLOYED);
    expect(byId(checks, 'secret.SECRETS_KEY')).toMatchObject({ status: 'fail', fix: 'openssl rand -base64 32 | npx wrangler secret put SECRETS_KEY' });
    expect(byId(checks, 'secret.SESSION_SECRET')).toMatchObject({ status: 'fail', fix: expect.stringContaining('npx wrangler secret put SESSION_SECRET') });
    expect(byId(checks, 'secret.AUDIT_HMAC_KEYS')).toMatchObject({ status: 'fail', message: expect.stringContaining('not valid JSON') });
    expect(byId(checks, 'secret.METRICS_TOKEN')?.status).toBe('warn');
    expect(byId(checks, 'secret.BOOTSTRAP_TOKEN')).toMatchObject({ status: 'warn', fix: expect.stringContaining('npx wrangler secret delete BOOTSTRAP_TOKEN') });
    expect(JSON.stringify(checks)).not.toContain('hunter2');

    const short = await secretChecks({ ...workerEnv, SECRETS_KEY: btoa('sixteen-bytes!!!'), AUDIT_KEY_ID: 'k2' }, { local: true });
    expect(byId(short, 'secret.SECRETS_KEY')).toMatchObject({ status: 'fail', message: 'SECRETS_KEY does not decode to 32 bytes of base64', fix: expect.stringContaining('.dev.vars') });
    expect(byId(short, 'secret.AUDIT_HMAC_KEYS')).toMatchObject({ status: 'fail', message: 'AUDIT_KEY_ID "k2" is not a key of AUDIT_HMAC_KEYS (k1)' });
    expect(byId(await secretChecks({ ...workerEnv, AUDIT_SIGNING_KEY: 'bm90IGEga2V5' }, DEPLOYED), 'secret.AUDIT_SIGNING_KEY')?.status).toBe('fail');
  });

  it('a missing or wrong binding fails with the wrangler.toml setting', async () => {
    const checks = await bindingChecks({ ...workerEnv, CLUSTERS: undefined, AUDIT: workerEnv.DB } as unknown as Env);
    expect(byId(checks, 'binding.CLUSTERS')).toMatchObject({ status: 'fail', message: 'CLUSTERS is not bound', fix: expect.stringContaining('class_name = "ClusterDO"') });
    expect(byId(checks, 'binding.AUDIT')).toMatchObject({ status: 'fail', message: 'AUDIT is bound but is not a Durable Object namespace' });
    expect(byId(checks, 'binding.DB')?.status).toBe('ok');
    const noDb = await bindingChecks({ ...workerEnv, DB: undefined, ASSETS: undefined } as unknown as Env);
    expect(byId(noDb, 'binding.DB')).toMatchObject({ status: 'fail', fix: expect.stringContaining('npx wrangler d1 create agentrunbook') });
    expect(byId(noDb, 'binding.ASSETS')).toMatchObject({ status: 'warn', fix: expect.stringContaining('npm run build:web') });
  });

  it('a provider without its key fails naming the variable, never the key', () => {
    expect(llmCheck({ ...workerEnv, LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: undefined }, DEPLOYED)).toMatchObject({ status: 'fail', message: expect.stringContaining('ANTHROPIC_API_KEY') });
    const okCheck = llmCheck({ ...workerEnv, LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-hunter2', LLM_MODEL: 'gpt-5-mini' }, DEPLOYED);
    expect(okCheck).toMatchObject({ status: 'ok', message: 'LLM_PROVIDER is openai, model gpt-5-mini at api.openai.com; OPENAI_API_KEY is set' });
  });

  it('migrations: the build knows every file in migrations/, and a missing one fails with the apply command', () => {
    const files = (env as unknown as { TEST_MIGRATIONS: { name: string }[] }).TEST_MIGRATIONS.map((m) => m.name);
    expect(EXPECTED_MIGRATIONS, 'migrations/meta/_journal.json vs migrations/*.sql (run npm run db:generate)').toEqual(files);
    const check = migrationCheck({ expected: EXPECTED_MIGRATIONS, applied: EXPECTED_MIGRATIONS.slice(0, -1) }, DEPLOYED);
    expect(check).toMatchObject({ status: 'fail', message: expect.stringContaining(EXPECTED_MIGRATIONS.at(-1)!), fix: 'npx wrangler d1 migrations apply DB --remote' });
    expect(migrationCheck({ expected: EXPECTED_MIGRATIONS, applied: undefined }, { local: true })).toMatchObject({ status: 'fail', fix: 'npx wrangler d1 migrations apply DB --local' });
  });

  it('a live integration pointing at an unreachable URL fails, without its token', async () => {
    const t = await newTenant();
    const token = 'ghp_doctortesttoken0123456789abcdef';
    const put = await api('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', base_url: 'http://127.0.0.1:9/api/v3', credentials: { token } } });
    expect(put.status).toBe(200);
    const [check] = await integrationChecks(workerEnv, makeDb(env.DB), t.id, 3000);
    expect(check).toMatchObject({ id: 'integration.github', status: 'fail', fix: expect.stringContaining('POST /api/v1/integrations/github/test') });
    const report = await runDoctor(workerEnv, t.id, DEPLOYED, 'installation');
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report)).not.toContain(token);
  }, 30_000);

  it('a registered cluster with no relay connected fails and says how to deploy one', async () => {
    const t = await newTenant();
    await registerCluster(workerEnv, makeDb(env.DB), { tenantId: t.id, name: 'doctor-eu', createdBy: 'test' });
    const report = await json<DoctorReport>(api('/doctor', { key: t.keys.admin }));
    expect(byId(report.checks, 'cluster.doctor-eu')).toMatchObject({ status: 'fail', message: expect.stringContaining('no relay has connected yet'), fix: expect.stringContaining('CLUSTER_NAME=doctor-eu') });
    expect(report.ok).toBe(false);
  });
});
