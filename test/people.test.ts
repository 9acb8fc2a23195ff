import { afterEach, describe, expect, it } from 'vitest';
import { api, json, newTenant, undoAll, type TestTenant } from './helpers';
import { browserSignIn, fakeIssuer, useIssuer } from './oidc-flow';
import { createRunbook, driveUntil, getRun, startRun, stubFor } from './run-helpers';
import { runDurableObjectAlarm } from 'cloudflare:test';

afterEach(undoAll);

/** One step that waits for approval because the runbook says so (the default approvers). */
const TICKET = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: ticket }
spec:
  steps:
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: people }
      approval: required
`;

/** Every mutating call needs two approvers; self-contained, so it does not lean on the shipped policies. */
const TWO_PEOPLE = `apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: two-people }
spec:
  roles:
    viewer:   { }
    operator: { run: true, tools: ["*"] }
    sre:      { run: true, approve: true, tools: ["*"] }
    admin:    { run: true, approve: true, manage: true, tools: ["*"] }
  rules:
    - name: two-people
      when: 'tool.mutating'
      effect: require_approval
      approval: { roles: [sre, admin], count: 2 }
`;

async function keyFor(t: TestTenant, name: string, role: string, owner: string): Promise<string> {
  const res = await api('/keys', { method: 'POST', key: t.keys.admin, json: { name, role, owner } });
  const body = await json<{ key: string; owner: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.owner).toBe(owner);
  return body.key;
}

async function waiting(t: TestTenant, requester: string): Promise<string> {
  await createRunbook(t.keys.admin, TICKET);
  const id = await startRun(requester, { runbook: 'ticket' });
  await driveUntil(t.id, requester, id, ['awaiting_approval']);
  return id;
}

const approve = (id: string, auth: { key?: string; cookie?: string }) =>
  api(`/runs/${id}/steps/ticket/approve`, { method: 'POST', key: auth.key, headers: auth.cookie ? { cookie: auth.cookie, 'sec-fetch-site': 'same-origin' } : {}, json: {} });
const inbox = async (auth: { key?: string; cookie?: string }) =>
  (await json<{ items: { run_id: string }[] }>(api('/approvals', { key: auth.key, headers: auth.cookie ? { cookie: auth.cookie } : {} }))).items.map((i) => i.run_id);
const messageOf = async (res: Response) => (await json<{ error: { message: string } }>(res)).error.message;

describe('duties count persons, not credentials (DESIGN §14)', () => {
  it('two keys with one owner cannot approve each other\'s run; a key of another owner can', async () => {
    const t = await newTenant();
    const ann1 = await keyFor(t, 'ann-laptop', 'sre', 'ann@example.com');
    const ann2 = await keyFor(t, 'ann-ci', 'sre', 'Ann@Example.com'.toLowerCase());
    const bob = await keyFor(t, 'bob', 'sre', 'bob@example.com');
    const id = await waiting(t, ann1);

    const self = await approve(id, { key: ann2 });
    expect(self.status).toBe(403);
    expect(await messageOf(self)).toMatch(/other than the person who started the run/);
    expect(await inbox({ key: ann2 })).not.toContain(id);
    expect(await inbox({ key: bob })).toContain(id);
    expect((await approve(id, { key: bob })).status).toBe(200);

    const run = await driveUntil(t.id, ann1, id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    expect(run.actor).toMatchObject({ type: 'api_key', person: 'ann@example.com' });
    expect(run.steps[0]!.approvals).toEqual([expect.objectContaining({ person: 'bob@example.com', verdict: 'approve' })]);
  });

  it('a run is listed with its person from the start (its runs-per-hour slot is its first row)', async () => {
    const t = await newTenant();
    const ann = await keyFor(t, 'ann-laptop', 'sre', 'ann@example.com');
    await createRunbook(t.keys.admin, TICKET);
    const id = await startRun(ann, { runbook: 'ticket' });
    // No alarm has run yet: the row is the one the admission wrote.
    const listed = await json<{ items: { id: string; actor: { person?: string } }[] }>(api('/runs', { key: t.keys.viewer }));
    expect(listed.items.find((r) => r.id === id)?.actor).toMatchObject({ person: 'ann@example.com' });
  });

  it('two keys with one owner cannot fill a quorum of two; a key of another owner completes it', async () => {
    const t = await newTenant();
    const created = await json<{ id: string }>(api('/policies', { method: 'POST', key: t.keys.admin, yaml: TWO_PEOPLE }));
    expect((await api(`/policies/${created.id}/activate`, { method: 'POST', key: t.keys.admin, json: {} })).status).toBe(200);
    const carol = await keyFor(t, 'carol', 'operator', 'carol@example.com');
    const ann1 = await keyFor(t, 'ann-1', 'sre', 'ann@example.com');
    const ann2 = await keyFor(t, 'ann-2', 'sre', 'ann@example.com');
    const bob = await keyFor(t, 'bob', 'sre', 'bob@example.com');
    const id = await waiting(t, carol);

    expect((await approve(id, { key: ann1 })).status).toBe(200);
    const again = await approve(id, { key: ann2 });
    expect(again.status).toBe(409);
    expect(await messageOf(again)).toMatch(/already reviewed this step \(as ann@example.com, with another credential\)/);
    expect(await inbox({ key: ann2 })).not.toContain(id);
    await runDurableObjectAlarm(stubFor(t.id, id));
    expect((await getRun(t.keys.viewer, id)).status).toBe('awaiting_approval');

    expect((await approve(id, { key: bob })).status).toBe(200);
    const run = await driveUntil(t.id, carol, id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]!.approvals.map((a) => (a as { person: string }).person)).toEqual(['ann@example.com', 'bob@example.com']);
  });

  it('a key and a browser session of the same person are one person; another person\'s session may approve', async () => {
    const t = await newTenant();
    const issuer = await fakeIssuer();
    await useIssuer(t, issuer);
    const annKey = await keyFor(t, 'ann', 'sre', 'ann@example.com');
    const id = await waiting(t, annKey);

    issuer.user = { sub: 'u-ann', email: 'ann@example.com', groups: ['sre-team'], claims: { email_verified: true } };
    const annBrowser = (await browserSignIn(t))!;
    expect(annBrowser).toBeDefined();
    expect(await inbox({ cookie: annBrowser })).not.toContain(id);
    expect((await approve(id, { cookie: annBrowser })).status).toBe(403);

    // An unverified email is not an identity: it would let anyone pass as Ann (or as not-Ann).
    issuer.user = { sub: 'u-mallory', email: 'ann@example.com', groups: ['sre-team'], claims: { email_verified: false } };
    const mallory = (await browserSignIn(t))!;
    expect((await json<{ person: string }>(api('/me', { headers: { cookie: mallory } }))).person).toBe(`${issuer.issuer}|u-mallory`);

    issuer.user = { sub: 'u-bob', email: 'bob@example.com', groups: ['sre-team'] };
    const bobBrowser = (await browserSignIn(t))!;
    expect(await inbox({ cookie: bobBrowser })).toContain(id);
    expect((await approve(id, { cookie: bobBrowser })).status).toBe(200);
    const run = await driveUntil(t.id, annKey, id, ['succeeded', 'failed']);
    expect(run.steps[0]!.approvals).toEqual([expect.objectContaining({ actor: { type: 'user', id: `${issuer.issuer}|u-bob` }, person: 'bob@example.com' })]);
  });

  it('a run started in the browser cannot be approved with the same person\'s key', async () => {
    const t = await newTenant();
    const issuer = await fakeIssuer();
    await useIssuer(t, issuer);
    await createRunbook(t.keys.admin, TICKET);
    issuer.user = { sub: 'u-ann', email: 'ann@example.com', groups: ['sre-team'] };
    const annBrowser = (await browserSignIn(t))!;
    const started = await api('/runs', { method: 'POST', headers: { cookie: annBrowser, 'sec-fetch-site': 'same-origin' }, json: { runbook: 'ticket' } });
    const { id } = await json<{ id: string }>(started);
    expect(started.status).toBe(201);
    await driveUntil(t.id, t.keys.viewer, id, ['awaiting_approval']);
    const annKey = await keyFor(t, 'ann', 'sre', 'ann@example.com');
    expect((await approve(id, { key: annKey })).status).toBe(403);
    expect((await getRun(t.keys.viewer, id)).actor).toEqual({ type: 'user', id: `${issuer.issuer}|u-ann`, person: 'ann@example.com' });
  });

  it('a rotated key keeps its owner; a key made without an owner is its creator\'s', async () => {
    const t = await newTenant();
    const ann = await keyFor(t, 'ann', 'sre', 'ann@example.com');
    const keys = await json<{ items: { id: string; name: string; owner: string }[] }>(api('/keys', { key: t.keys.admin }));
    const annId = keys.items.find((k) => k.name === 'ann')!.id;
    const rotated = await json<{ key: string; owner: string }>(api(`/keys/${annId}/rotate`, { method: 'POST', key: t.keys.admin, json: { grace: '1h' } }));
    expect(rotated.owner).toBe('ann@example.com');
    // The old key and its replacement are one person: neither approves the other's run.
    const id = await waiting(t, ann);
    expect((await approve(id, { key: rotated.key })).status).toBe(403);

    const mine = await json<{ owner: string }>(api('/keys', { method: 'POST', key: t.keys.admin, json: { name: 'admin-2', role: 'admin' } }));
    const adminKey = keys.items.find((k) => k.name === 'admin')!;
    expect(mine.owner).toBe(adminKey.owner);
    // A key from before owners were recorded is a person of its own.
    expect(adminKey.owner).toBe(`key:${adminKey.id}`);
  });

  it('L8: "approval: required" alone does not let the requester approve their own step', async () => {
    const t = await newTenant();
    const id = await waiting(t, t.keys.sre);
    const self = await approve(id, { key: t.keys.sre });
    expect(self.status).toBe(403);
    expect(await messageOf(self)).toMatch(/other than the person who started the run/);
    expect((await approve(id, { key: t.keys.admin })).status).toBe(200);
  });
});

describe('GET and PUT /people', () => {
  interface Person {
    id: string;
    email: string | null;
    role: string | null;
    role_source: string | null;
    oidc_subject: string | null;
    keys: number;
  }
  const people = async (t: TestTenant) => (await json<{ items: Person[] }>(api('/people', { key: t.keys.admin }))).items;

  it('lists key owners, signed-in people and people given a role, each with their role and where it comes from', async () => {
    const t = await newTenant();
    const issuer = await fakeIssuer();
    await useIssuer(t, issuer);
    await keyFor(t, 'ann-1', 'operator', 'ann@example.com');
    await keyFor(t, 'ann-2', 'sre', 'ann@example.com');
    issuer.user = { sub: 'u-grace', email: 'grace@example.com', groups: ['sre-team'] };
    await browserSignIn(t);
    expect((await api('/people/chat%40example.com', { method: 'PUT', key: t.keys.admin, json: { role: 'operator' } })).status).toBe(200);

    const list = await people(t);
    const byId = Object.fromEntries(list.map((p) => [p.id, p]));
    expect(byId['ann@example.com']).toMatchObject({ email: 'ann@example.com', role: 'sre', role_source: 'keys', keys: 2 });
    expect(byId['grace@example.com']).toMatchObject({ role: 'sre', role_source: 'oidc_groups', oidc_subject: `${issuer.issuer}|u-grace`, keys: 0 });
    expect(byId['chat@example.com']).toMatchObject({ role: 'operator', role_source: 'assigned', keys: 0 });
    // The fixture's keys predate owners: each is a person of its own, as before.
    expect(list.filter((p) => p.id.startsWith('key:')).map((p) => p.role).sort()).toEqual(['admin', 'operator', 'sre', 'viewer']);
    expect((await api('/people', { key: t.keys.sre })).status).toBe(403);
  });

  it('a person none of whose groups is mapped signs in with the role an admin gave them', async () => {
    const t = await newTenant();
    const issuer = await fakeIssuer();
    await useIssuer(t, issuer);
    issuer.user = { sub: 'u-chat', email: 'chat@example.com', groups: ['chat-approvers'] };
    expect(await browserSignIn(t)).toBeUndefined(); // no mapped group, no default role: refused
    const set = await api('/people/Chat%40Example.com', { method: 'PUT', key: t.keys.admin, json: { role: 'sre' } });
    expect(set.status).toBe(200);
    expect(await json(set)).toMatchObject({ id: 'chat@example.com', role: 'sre', role_source: 'assigned' });
    const cookie = (await browserSignIn(t))!;
    const me = await json<{ key: { role: string }; person: string }>(api('/me', { headers: { cookie } }));
    expect(me).toMatchObject({ key: { role: 'sre' }, person: 'chat@example.com' });
    const audit = await json<{ items: { action: string; data: { role: string } }[] }>(api('/audit?action=person.role_set', { key: t.keys.admin }));
    expect(audit.items[0]!.data.role).toBe('sre');
    const bad = await api('/people/not-an-email', { method: 'PUT', key: t.keys.admin, json: { role: 'sre' } });
    expect(bad.status).toBe(400);
  });
});
