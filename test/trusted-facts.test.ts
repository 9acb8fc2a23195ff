// Policies decide on what the server knows (DESIGN §13): the labels of registered clusters and of
// repositories, the tenant's schedule, the server's clock — never on what the caller's `context` says.
import { describe, expect, it } from 'vitest';
import strictProduction from '../policies/strict-production.yaml';
import { api, json, newTenant, type TestTenant } from './helpers';

interface Decision {
  effect: string;
  reasons: { kind: string; name: string; effect: string; message: string }[];
  facts?: { target: Record<string, unknown>; now: Record<string, unknown> };
}

let n = 0;
const clusterName = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 6)}`;

async function register(t: TestTenant, name: string, labels?: Record<string, string>): Promise<void> {
  const res = await api('/clusters', { method: 'POST', key: t.keys.admin, json: labels ? { name, labels } : { name } });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function plan(t: TestTenant, key: string, tool: string, args: Record<string, unknown>, context: Record<string, unknown> = {}): Promise<Decision> {
  const res = await api('/tools/plan', { method: 'POST', key, json: { tool, args, context } });
  const body = await json<Decision>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function putSettings(t: TestTenant, settings: Record<string, unknown>): Promise<Response> {
  return api('/settings', { method: 'PUT', key: t.keys.admin, json: settings });
}

async function activate(t: TestTenant, yaml: string): Promise<void> {
  const created = await json<{ id: string }>(api('/policies', { method: 'POST', key: t.keys.admin, yaml }));
  expect((await api(`/policies/${created.id}/activate`, { method: 'POST', key: t.keys.admin })).status).toBe(200);
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** Business hours that always hold, and ones that never hold today (another weekday only). */
const ALWAYS = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' };
const NOT_TODAY = { days: [DAYS[(new Date().getUTCDay() + 3) % 7]], start: '00:00', end: '24:00' };

const restart = (cluster: string) => ({ cluster, namespace: 'shop', name: 'api' });

describe('the default policy decides on the cluster\'s labels, not on context', () => {
  it('a mutating call on a cluster labelled prod needs approval whatever context says; one labelled dev does not', async () => {
    const t = await newTenant();
    const prod = clusterName('prod');
    const dev = clusterName('dev');
    await register(t, prod, { environment: 'prod' });
    await register(t, dev);
    const patched = await api(`/clusters/${dev}`, { method: 'PATCH', key: t.keys.admin, json: { labels: { environment: 'dev' } } });
    expect(await json(patched)).toEqual({ name: dev, labels: { environment: 'dev' } });

    for (const context of [{ environment: 'staging' }, {}, { environment: 'dev', change_freeze: false }]) {
      const d = await plan(t, t.keys.sre, 'k8s.restart_deployment', restart(prod), context);
      expect(d.effect, JSON.stringify(context)).toBe('require_approval');
      expect(d.reasons).toContainEqual(expect.objectContaining({ kind: 'rule', name: 'prod-writes-need-approval' }));
      expect(d.facts?.target).toEqual({ kind: 'cluster', name: prod, registered: true, live: true, labels: { environment: 'prod' } });
    }
    for (const context of [{ environment: 'staging' }, {}]) {
      expect((await plan(t, t.keys.sre, 'k8s.restart_deployment', restart(dev), context)).effect).toBe('allow');
    }

    // The same through the run engine: an invoked call on the prod cluster waits for a second person.
    const invoked = await api('/tools/invoke', { method: 'POST', key: t.keys.sre, json: { tool: 'k8s.restart_deployment', args: restart(prod), context: { environment: 'staging' } } });
    expect(invoked.status).toBe(202);
    expect(await json(invoked)).toMatchObject({ status: 'awaiting_approval', effect: 'require_approval' });
    const rehearsed = await json<{ effect: string; step: { decision: Decision } }>(
      api('/tools/invoke', { method: 'POST', key: t.keys.sre, json: { tool: 'k8s.restart_deployment', args: restart(dev), context: { environment: 'prod-but-not-really' }, mode: 'dry_run' } }),
    );
    expect(rehearsed.effect).toBe('allow');
    expect(rehearsed.step.decision.facts?.target).toMatchObject({ name: dev, labels: { environment: 'dev' } });
  });

  it('a registered cluster nobody labelled is treated as production; an unregistered one in a simulated tenant is not', async () => {
    const t = await newTenant();
    const bare = clusterName('bare');
    const unregistered = clusterName('sim');
    await register(t, bare);
    expect((await plan(t, t.keys.sre, 'k8s.cordon_node', { cluster: bare, node: 'n1' }, { environment: 'dev' })).reasons).toContainEqual(
      expect.objectContaining({ name: 'unlabelled-targets-are-prod', effect: 'require_approval' }),
    );
    const sim = await newTenant();
    expect((await plan(sim, sim.keys.sre, 'k8s.cordon_node', { cluster: unregistered, node: 'n1' })).effect).toBe('allow');
  });

  it('labels per GitHub repository come from the integration settings', async () => {
    const t = await newTenant();
    const put = await api('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { target_labels: { 'acme/shop': { environment: 'prod' } } } });
    expect(await json(put)).toMatchObject({ target_labels: { 'acme/shop': { environment: 'prod' } } });
    const revert = (repo: string) => plan(t, t.keys.sre, 'github.revert_pull_request', { repo, number: 7 }, { environment: 'staging' });
    expect((await revert('acme/shop')).effect).toBe('require_approval');
    expect((await revert('acme/blog')).effect).toBe('allow');
    const bad = await json<{ error: { details: { path: string }[] } }>(api('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { target_labels: { shop: {} } } }));
    expect(bad.error.details).toEqual([expect.objectContaining({ path: 'target_labels.shop' })]);
  });

  it('a change freeze in the tenant settings denies high-risk changes on the server\'s clock, whatever context says', async () => {
    const t = await newTenant();
    const dev = clusterName('dev');
    await register(t, dev, { environment: 'dev' });
    const drain = () => plan(t, t.keys.sre, 'k8s.drain_node', { cluster: dev, node: 'n1' }, { change_freeze: false });
    expect((await drain()).effect).toBe('allow');
    const freeze = { name: 'peak', start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString(), reason: 'Black Friday' };
    const res = await putSettings(t, { time_zone: 'Europe/Berlin', change_freezes: [freeze] });
    expect(await json(res)).toMatchObject({ time_zone: 'Europe/Berlin', change_freezes: [freeze] });
    const frozen = await drain();
    expect(frozen.effect).toBe('deny');
    expect(frozen.reasons).toContainEqual(expect.objectContaining({ name: 'change-freeze', effect: 'deny' }));
    expect(frozen.facts?.now).toMatchObject({ change_freeze: true, change_freeze_name: 'peak' });
  });

  it('schedule and labels are checked: 400 naming the field', async () => {
    const t = await newTenant();
    const details = async (res: Promise<Response>) => (await json<{ error: { details: { path: string }[] } }>(res)).error.details.map((d) => d.path);
    expect(await details(putSettings(t, { time_zone: 'Mars/Olympus' }))).toEqual(['time_zone']);
    expect(await details(putSettings(t, { business_hours: { days: ['mon'], start: '17:00', end: '09:00' } }))).toEqual(['business_hours.end']);
    expect(await details(putSettings(t, { change_freezes: [{ name: 'x', start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' }] }))).toEqual(['change_freezes[0].end']);
    expect(await details(api('/clusters', { method: 'POST', key: t.keys.admin, json: { name: clusterName('c'), labels: { Env: 'prod' } } }))).toEqual(['labels.Env']);
    expect((await api(`/clusters/${clusterName('none')}`, { method: 'PATCH', key: t.keys.admin, json: { labels: {} } })).status).toBe(404);
    const c = clusterName('c');
    await register(t, c);
    expect((await api(`/clusters/${c}`, { method: 'PATCH', key: t.keys.sre, json: { labels: { environment: 'dev' } } })).status).toBe(403);
  });
});

describe('strict-production on trusted facts', () => {
  it("the issue's reproduction: an sre rolling back on prod-eu, claiming staging in business hours, is not allowed", async () => {
    const t = await newTenant();
    const prodEu = clusterName('prod-eu');
    await register(t, prodEu, { environment: 'prod', region: 'eu' });
    await activate(t, strictProduction);
    const rollback = () => plan(t, t.keys.sre, 'k8s.rollback_deployment', restart(prodEu), { environment: 'staging', business_hours: true });

    expect((await putSettings(t, { business_hours: ALWAYS })).status).toBe(200);
    const inHours = await rollback();
    expect(inHours.effect).toBe('require_approval');
    expect(inHours.reasons).toContainEqual(expect.objectContaining({ name: 'prod-writes-need-two-sres' }));

    expect((await putSettings(t, { business_hours: NOT_TODAY })).status).toBe(200);
    const outOfHours = await rollback();
    expect(outOfHours.effect).toBe('deny');
    expect(outOfHours.reasons).toContainEqual(expect.objectContaining({ name: 'high-risk-outside-business-hours' }));
  });
});

describe('POST /policies/validate', () => {
  it('warns when a tightening rule reads only context', async () => {
    const t = await newTenant();
    const yaml = strictProduction.replace(
      '  rules:\n',
      '  rules:\n    - name: claimed-prod\n      when: \'has(context.environment) && context.environment == "prod" && tool.mutating\'\n      effect: deny\n',
    );
    const res = await json<{ ok: boolean; warnings: { path: string; message: string }[] }>(api('/policies/validate', { method: 'POST', key: t.keys.sre, yaml }));
    expect(res.warnings).toEqual([expect.objectContaining({ path: 'spec.rules[0].when', message: expect.stringContaining('reads context but no trusted fact') })]);
  });
});
