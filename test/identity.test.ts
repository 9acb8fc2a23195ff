import { env, exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { purgeEndedSessions } from '../worker/auth/session';
import { makeDb } from '../worker/db/client';
import { FakeOidcIssuer, type FakeClient } from './fakes/oidc-issuer';
import { api, json, newTenant, type TestTenant } from './helpers';

const HTTP = 'http://agentrunbook.test';
const HTTPS = 'https://agentrunbook.test';
const CLIENT: FakeClient = { client_id: 'agentrunbook', client_secret: 'idp-client-secret-0123456789', auth_method: 'client_secret_basic' };

interface SetCookie {
  value: string;
  attrs: string[];
}

/** The cookies a response sets, by name, with their attributes in lower case. */
function setCookies(res: Response): Map<string, SetCookie> {
  const out = new Map<string, SetCookie>();
  for (const line of res.headers.getAll('set-cookie')) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), attrs: attrs.map((a) => a.toLowerCase()) });
  }
  return out;
}

/** Calls the Worker at an absolute URL (the browser's view), with cookies. */
function browse(url: string, init: RequestInit & { cookies?: Record<string, string> } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.cookies) headers.set('cookie', Object.entries(init.cookies).map(([k, v]) => `${k}=${v}`).join('; '));
  return exports.default.fetch(new Request(url, { ...init, headers, redirect: 'manual' }));
}

const undo: (() => void)[] = [];
afterEach(() => {
  while (undo.length) undo.pop()!();
});

async function newIssuer(clients: FakeClient[] = [CLIENT]): Promise<FakeOidcIssuer> {
  const issuer = await FakeOidcIssuer.create({ clients });
  undo.push(issuer.install());
  return issuer;
}

async function configure(t: TestTenant, issuer: FakeOidcIssuer, oidc: Record<string, unknown> = {}): Promise<void> {
  const res = await api('/settings', {
    method: 'PUT',
    key: t.keys.admin,
    json: { oidc: { issuer: issuer.issuer, client_id: CLIENT.client_id, client_secret: CLIENT.client_secret, role_mapping: { 'sre-team': 'sre', ops: 'operator', admins: 'admin' }, ...oidc } },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

interface Flow {
  login: Response;
  authorizeUrl: URL;
  loginState: string;
  callbackUrl: URL;
  callback: Response;
  /** `arb_session=…` ready for a Cookie header, when the sign-in succeeded. */
  session?: string;
}

/** A browser signing in: login → the IdP (auto-consent) → callback with the login-state cookie. */
async function signIn(t: TestTenant, issuer: FakeOidcIssuer, opts: { returnTo?: string; origin?: string; tamper?: (u: URL) => void } = {}): Promise<Flow> {
  const origin = opts.origin ?? HTTP;
  const login = await browse(`${origin}/api/v1/auth/oidc/${t.id}/login?return_to=${encodeURIComponent(opts.returnTo ?? '/runs')}`);
  expect(login.status).toBe(302);
  const authorizeUrl = new URL(login.headers.get('location')!);
  const loginState = setCookies(login).get('arb_oidc')!.value;
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const callbackUrl = new URL(authorize.headers.get('location')!);
  opts.tamper?.(callbackUrl);
  const callback = await browse(callbackUrl.toString(), { cookies: { arb_oidc: loginState } });
  const cookie = setCookies(callback).get('arb_session');
  return { login, authorizeUrl, loginState, callbackUrl, callback, session: cookie?.value ? `arb_session=${cookie.value}` : undefined };
}

function refusal(res: Response): { error: string; description: string } {
  expect(res.status).toBe(302);
  const to = new URL(res.headers.get('location')!, HTTP);
  expect(to.pathname).toBe('/login');
  return { error: to.searchParams.get('error')!, description: to.searchParams.get('error_description')! };
}

async function auditOf(t: TestTenant, action: string) {
  const body = await json<{ items: { action: string; actor: { type: string; id: string }; data: Record<string, unknown> }[] }>(api(`/audit?action=${action}&limit=100`, { key: t.keys.admin }));
  return body.items;
}

async function me(cookie: string) {
  return api('/me', { headers: { cookie } });
}

describe('OIDC sign-in', () => {
  it('signs a person in end to end: PKCE S256, state and nonce; the cookie opens /me with the mapped role', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'u-42', email: 'grace@example.com', name: 'Grace Hopper', groups: ['ops', 'sre-team', 'unrelated'] };

    const flow = await signIn(t, issuer, { returnTo: '/runs/abc?tab=steps' });
    const q = flow.authorizeUrl.searchParams;
    expect(`${flow.authorizeUrl.origin}${flow.authorizeUrl.pathname}`).toBe(`${issuer.issuer}/authorize`);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('agentrunbook');
    expect(q.get('redirect_uri')).toBe(`${HTTP}/api/v1/auth/oidc/callback`);
    expect(q.get('scope')!.split(' ')).toContain('openid');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).not.toBe(q.get('state'));

    const loginCookie = setCookies(flow.login).get('arb_oidc')!;
    expect(loginCookie.attrs).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/api/v1/auth/oidc', 'max-age=600']));

    // The callback hands over through a same-site page (see routes/auth.ts) and sets a Strict cookie.
    expect(flow.callback.status).toBe(200);
    const page = await flow.callback.text();
    expect(page).toContain('<meta http-equiv="refresh" content="0; url=/runs/abc?tab=steps">');
    expect(flow.callback.headers.get('referrer-policy')).toBe('no-referrer');
    const cookies = setCookies(flow.callback);
    expect(cookies.get('arb_session')!.attrs).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    expect(cookies.get('arb_session')!.attrs).not.toContain('secure');
    expect(cookies.get('arb_oidc')!.attrs).toContain('max-age=0');
    expect(issuer.tokenRequests).toEqual([expect.objectContaining({ client_id: 'agentrunbook', client_auth: 'client_secret_basic', status: 200 })]);

    const res = await me(flow.session!);
    expect(res.status).toBe(200);
    const who = await json<Record<string, any>>(res);
    expect(who.tenant.id).toBe(t.id);
    expect(who.key.role).toBe('sre');
    expect(who.key.name).toBe('Grace Hopper');
    expect(who.actor).toEqual({ type: 'user', id: `${issuer.issuer}|u-42` });
    expect(who.session).toMatchObject({ kind: 'oidc', id: who.key.id });
    expect(who.user).toEqual({ issuer: issuer.issuer, subject: 'u-42', email: 'grace@example.com', name: 'Grace Hopper', groups: ['ops', 'sre-team', 'unrelated'] });

    // The mapped role governs the rest of the API.
    expect((await api('/runbooks', { headers: { cookie: flow.session! } })).status).toBe(200);
    expect((await api('/keys', { headers: { cookie: flow.session! } })).status).toBe(403);

    const [login] = await auditOf(t, 'session.login');
    expect(login!.actor).toEqual({ type: 'user', id: `${issuer.issuer}|u-42` });
    expect(login!.data).toMatchObject({ method: 'oidc', issuer: issuer.issuer, subject: 'u-42', role: 'sre' });
    const auditText = JSON.stringify(await json(api('/audit?limit=1000', { key: t.keys.admin })));
    expect(auditText).not.toContain(flow.callbackUrl.searchParams.get('code')!);
    expect(auditText).not.toContain(CLIENT.client_secret!);
  });

  it('maps groups to roles: the highest wins, default_role catches the rest, and nothing mapped is refused and audited', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer, { role_mapping: { viewers: 'viewer', admins: 'admin', ops: 'operator' }, default_role: 'viewer' });

    issuer.user = { sub: 'u-1', groups: ['viewers', 'admins', 'ops'] };
    expect((await json<{ key: { role: string } }>(me((await signIn(t, issuer)).session!))).key.role).toBe('admin');
    issuer.user = { sub: 'u-2', groups: ['ops', 'viewers'] };
    expect((await json<{ key: { role: string } }>(me((await signIn(t, issuer)).session!))).key.role).toBe('operator');
    issuer.user = { sub: 'u-3', groups: ['strangers'] };
    expect((await json<{ key: { role: string } }>(me((await signIn(t, issuer)).session!))).key.role).toBe('viewer');

    await configure(t, issuer, { role_mapping: { admins: 'admin' } });
    issuer.user = { sub: 'u-4', email: 'nobody@example.com', groups: ['strangers'] };
    const flow = await signIn(t, issuer);
    expect(flow.session).toBeUndefined();
    const { error, description } = refusal(flow.callback);
    expect(error).toBe('no_role');
    expect(description).toContain('"strangers"');
    expect(description).toMatch(/no default role/);
    const refused = await auditOf(t, 'session.login_refused');
    expect(refused[0]!.data).toMatchObject({ reason: 'no_role', subject: 'u-4', issuer: issuer.issuer, groups: ['strangers'] });
    expect(refused[0]!.actor.id).toBe(`${issuer.issuer}|u-4`);
  });

  it.each([
    ['a bad signature (another key under the published kid)', { badSignature: true }, 'bad_signature'],
    ['a wrong audience', { audience: 'some-other-client' }, 'wrong_audience'],
    ['an expired token', { expiresIn: -300 }, 'token_expired'],
    ['a wrong nonce', { nonce: 'not-the-nonce-of-this-login' }, 'nonce_mismatch'],
    ['another issuer', { issuer: 'https://elsewhere.test' }, 'wrong_issuer'],
    ['no ID token at all', { omitIdToken: true }, 'token_exchange_failed'],
  ] as const)('refuses an ID token with %s, and audits the refusal', async (_label, knobs, reason) => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'mallory', groups: ['admins'] };
    issuer.knobs = { ...knobs };
    const flow = await signIn(t, issuer);
    expect(flow.session).toBeUndefined();
    expect(refusal(flow.callback).error).toBe(reason);
    const refused = await auditOf(t, 'session.login_refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.data).toMatchObject({ method: 'oidc', reason, issuer: issuer.issuer });
    expect(JSON.stringify(refused)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(await auditOf(t, 'session.login')).toHaveLength(0);
  });

  it('refuses a callback whose state is not the one this browser started, or that has no login cookie', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'u-1', groups: ['admins'] };
    const flow = await signIn(t, issuer, { tamper: (u) => u.searchParams.set('state', 'forged-state-value') });
    expect(refusal(flow.callback).error).toBe('state_mismatch');
    expect(flow.session).toBeUndefined();
    // The code was never redeemed: the state is checked first.
    expect(issuer.tokenRequests).toHaveLength(0);
    expect((await auditOf(t, 'session.login_refused'))[0]!.data).toMatchObject({ reason: 'state_mismatch' });

    const again = await signIn(t, issuer);
    const noCookie = await browse(again.callbackUrl.toString());
    expect(refusal(noCookie).error).toBe('login_expired');
    const forgedCookie = await browse(again.callbackUrl.toString(), { cookies: { arb_oidc: again.loginState.slice(0, -4) + 'AAAA' } });
    expect(refusal(forgedCookie).error).toBe('login_expired');
  });

  it('an authorization code is single-use: replaying the callback is refused', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'u-1', groups: ['ops'] };
    const flow = await signIn(t, issuer);
    expect(flow.session).toBeDefined();
    const replay = await browse(flow.callbackUrl.toString(), { cookies: { arb_oidc: flow.loginState } });
    expect(refusal(replay).error).toBe('token_exchange_failed');
    expect(setCookies(replay).get('arb_session')).toBeUndefined();
    expect(issuer.tokenRequests.map((r) => r.error ?? 'ok')).toEqual(['ok', 'invalid_grant']);
    expect((await auditOf(t, 'session.login_refused'))[0]!.data.message).toMatch(/code already used/);
  });

  it('the fake issuer really checks the PKCE verifier and the client secret', async () => {
    const issuer = await newIssuer();
    issuer.user = { sub: 'u-1' };
    const authorize = async () => {
      const url = new URL(`${issuer.issuer}/authorize`);
      const params = { response_type: 'code', client_id: 'agentrunbook', redirect_uri: `${HTTP}/cb`, scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      return new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    };
    const redeem = (code: string, verifier: string, secret = CLIENT.client_secret!) =>
      fetch(`${issuer.issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${btoa(`agentrunbook:${secret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${HTTP}/cb`, code_verifier: verifier }),
      });
    // RFC 7636 appendix B: this verifier hashes to the challenge above.
    const good = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    expect((await json(redeem(await authorize(), good.replace('d', 'e')))).error).toBe('invalid_grant');
    expect((await redeem(await authorize(), good, 'wrong-secret')).status).toBe(401);
    expect((await redeem(await authorize(), good)).status).toBe(200);
  });

  it('return_to must be a path on this site: no open redirect', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    for (const evil of ['https://evil.example/x', '//evil.example/x', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)', 'evil.example']) {
      const res = await browse(`${HTTP}/api/v1/auth/oidc/${t.id}/login?return_to=${encodeURIComponent(evil)}`);
      expect(refusal(res).error, evil).toBe('invalid_return_to');
      expect(res.headers.get('location'), evil).not.toContain('evil.example');
      expect(setCookies(res).has('arb_oidc'), evil).toBe(false);
    }
    expect(issuer.requests).toHaveLength(0);

    issuer.user = { sub: 'u-1', groups: ['ops'] };
    const ok = await signIn(t, issuer, { returnTo: '/runs/r1?tab="x"' });
    expect(await ok.callback.text()).toContain('url=/runs/r1?tab=%22x%22"');
  });

  it('logout revokes the session: the old cookie answers 401 afterwards', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'u-1', groups: ['ops'] };
    const { session } = await signIn(t, issuer);
    const who = await json<{ session: { id: string } }>(me(session!));
    expect((await me(session!)).status).toBe(200);

    const out = await api('/session', { method: 'DELETE', headers: { cookie: session! } });
    expect(out.status).toBe(200);
    expect(setCookies(out).get('arb_session')!.attrs).toContain('max-age=0');
    const after = await me(session!);
    expect(after.status).toBe(401);
    expect((await json<{ error: { message: string } }>(after)).error.message).toMatch(/signed out/);
    const row = await env.DB.prepare('SELECT revoked_at FROM sessions WHERE id = ?').bind(who.session.id).first<{ revoked_at: string | null }>();
    expect(row!.revoked_at).not.toBeNull();
    expect((await auditOf(t, 'session.logout'))[0]).toMatchObject({ actor: { type: 'user', id: `${issuer.issuer}|u-1` }, data: { method: 'oidc' } });
  });

  it('cookies are Secure on https, for OIDC and for key sign-in alike', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'u-1', groups: ['ops'] };
    const flow = await signIn(t, issuer, { origin: HTTPS });
    expect(flow.authorizeUrl.searchParams.get('redirect_uri')).toBe(`${HTTPS}/api/v1/auth/oidc/callback`);
    expect(setCookies(flow.login).get('arb_oidc')!.attrs).toContain('secure');
    expect(setCookies(flow.callback).get('arb_session')!.attrs).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=strict', 'path=/']));

    for (const [origin, secure] of [[HTTPS, true], [HTTP, false]] as const) {
      const res = await browse(`${origin}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: t.keys.viewer }) });
      expect(res.status).toBe(200);
      const attrs = setCookies(res).get('arb_session')!.attrs;
      expect(attrs).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
      expect(attrs.includes('secure'), origin).toBe(secure);
    }
  });

  it('authenticates at the token endpoint as configured: public client (PKCE only) and client_secret_post; a wrong secret is refused', async () => {
    const t = await newTenant();
    const issuer = await newIssuer([
      { client_id: 'spa', auth_method: 'none' },
      { client_id: 'post', client_secret: 'post-secret-value', auth_method: 'client_secret_post' },
      CLIENT,
    ]);
    issuer.user = { sub: 'u-1', groups: ['ops'] };

    await configure(t, issuer, { client_id: 'spa', client_secret: undefined });
    expect((await signIn(t, issuer)).session).toBeDefined();
    await configure(t, issuer, { client_id: 'post', client_secret: 'post-secret-value', token_endpoint_auth_method: 'client_secret_post' });
    expect((await signIn(t, issuer)).session).toBeDefined();
    expect(issuer.tokenRequests.map((r) => [r.client_id, r.client_auth, r.status])).toEqual([
      ['spa', 'none', 200],
      ['post', 'client_secret_post', 200],
    ]);

    await configure(t, issuer, { client_secret: 'not-the-secret' });
    const flow = await signIn(t, issuer);
    const { error, description } = refusal(flow.callback);
    expect(error).toBe('token_exchange_failed');
    expect(description).toContain('invalid_client');
    expect(description).not.toContain('not-the-secret');
  });

  it('a changed group mapping or OIDC turned off takes effect on the next request', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.user = { sub: 'u-1', groups: ['sre-team'] };
    const { session } = await signIn(t, issuer);
    expect((await json<{ key: { role: string } }>(me(session!))).key.role).toBe('sre');
    await configure(t, issuer, { role_mapping: { 'sre-team': 'viewer' } });
    expect((await json<{ key: { role: string } }>(me(session!))).key.role).toBe('viewer');
    await configure(t, issuer, { role_mapping: {} });
    expect((await me(session!)).status).toBe(401);
    await configure(t, issuer);
    expect((await me(session!)).status).toBe(200);
    expect((await api('/settings', { method: 'PUT', key: t.keys.admin, json: {} })).status).toBe(200);
    expect((await me(session!)).status).toBe(401);
  });

  it('an IdP error, an unknown tenant and a tenant without OIDC are refused with a clear code', async () => {
    const t = await newTenant();
    const issuer = await newIssuer();
    await configure(t, issuer);
    issuer.authorizeError = 'access_denied';
    const flow = await signIn(t, issuer);
    const { error, description } = refusal(flow.callback);
    expect(error).toBe('idp_error');
    expect(description).toContain('access_denied');

    const plain = await newTenant();
    for (const tenant of [plain.id, 'ten_does_not_exist']) {
      expect(refusal(await browse(`${HTTP}/api/v1/auth/oidc/${tenant}/login`)).error).toBe('not_configured');
    }
  });
});

describe('tenant settings', () => {
  it('admins configure OIDC; the client secret is stored encrypted and never returned or audited', async () => {
    const t = await newTenant();
    const secret = 'super-secret-client-value-42';
    const put = await api('/settings', {
      method: 'PUT',
      key: t.keys.admin,
      json: { oidc: { issuer: 'https://login.example.com', client_id: 'arb', client_secret: secret, role_mapping: { ops: 'operator' } }, rate_limit: { requests_per_minute: 600 } },
    });
    expect(put.status).toBe(200);
    const putText = await put.clone().text();
    expect(putText).not.toContain(secret);
    const shown = await json<Record<string, any>>(put);
    expect(shown.oidc).toMatchObject({
      issuer: 'https://login.example.com',
      client_id: 'arb',
      client_secret_set: true,
      scopes: ['openid', 'email', 'profile', 'groups'],
      groups_claim: 'groups',
      role_mapping: { ops: 'operator' },
      redirect_uri: `${HTTP}/api/v1/auth/oidc/callback`,
      login_url: `${HTTP}/api/v1/auth/oidc/${t.id}/login`,
    });
    expect(shown.oidc).not.toHaveProperty('client_secret');
    expect(shown.rate_limit).toEqual({ requests_per_minute: 600 });

    const got = await api('/settings', { key: t.keys.admin });
    expect(await got.clone().text()).not.toContain(secret);
    expect(await json(got)).toEqual(shown);

    const row = await env.DB.prepare('SELECT settings FROM tenants WHERE id = ?').bind(t.id).first<{ settings: string }>();
    expect(row!.settings).not.toContain(secret);
    expect(JSON.parse(row!.settings).oidc.client_secret_enc).toMatch(/^v1:/);
    expect(JSON.stringify(await json(api('/audit?limit=1000', { key: t.keys.admin })))).not.toContain(secret);
    expect((await auditOf(t, 'settings.updated'))[0]!.data).toMatchObject({ oidc: { issuer: 'https://login.example.com', client_auth: 'secret_replaced' } });
  });

  it('leaving the secret out keeps it for the same client; a new client drops it; a secret-based method without one is refused', async () => {
    const t = await newTenant();
    const base = { issuer: 'https://login.example.com', client_id: 'arb' };
    await api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { ...base, client_secret: 'first-secret' } } });
    const kept = await json<Record<string, any>>(api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { ...base, default_role: 'viewer' } } }));
    expect(kept.oidc.client_secret_set).toBe(true);
    const other = await json<Record<string, any>>(api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { ...base, client_id: 'another' } } }));
    expect(other.oidc.client_secret_set).toBe(false);
    const res = await api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { ...base, client_id: 'third', token_endpoint_auth_method: 'client_secret_basic' } } });
    expect(res.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(res)).error.details[0]!.path).toBe('oidc.client_secret');
  });

  it.each([
    [{ oidc: { issuer: 'http://login.example.com', client_id: 'a' } }, 'oidc.issuer'],
    [{ oidc: { issuer: 'not a url', client_id: 'a' } }, 'oidc.issuer'],
    [{ oidc: { issuer: 'https://login.example.com', client_id: 'a', scopes: ['email'] } }, 'oidc.scopes'],
    [{ oidc: { issuer: 'https://login.example.com', client_id: 'a', role_mapping: { ops: 'root' } } }, 'oidc.role_mapping.ops'],
    [{ oidc: { issuer: 'https://login.example.com', client_id: 'a', token_endpoint_auth_method: 'none', client_secret: 'x' } }, 'oidc.client_secret'],
    [{ oidc: { issuer: 'https://login.example.com' } }, 'oidc.client_id'],
    [{ sso: true }, '(body)'],
  ])('invalid settings %j → 400 naming %s', async (body, path) => {
    const t = await newTenant();
    const res = await api('/settings', { method: 'PUT', key: t.keys.admin, json: body });
    expect(res.status).toBe(400);
    const details = (await json<{ error: { details: { path: string }[] } }>(res)).error.details;
    expect(details.map((d) => d.path)).toContain(path);
  });

  it('non-admins get 403 on GET and PUT /settings', async () => {
    const t = await newTenant();
    for (const role of ['viewer', 'operator', 'sre'] as const) {
      expect((await api('/settings', { key: t.keys[role] })).status, role).toBe(403);
      const res = await api('/settings', { method: 'PUT', key: t.keys[role], json: {} });
      expect(res.status, role).toBe(403);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('forbidden');
    }
    expect((await api('/settings')).status).toBe(401);
  });
});

describe('API document', () => {
  it('documents sign-in, settings and key rotation', async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(api('/openapi.json'));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/auth/oidc/{tenant}/login', '/auth/oidc/callback', '/settings', '/keys/{id}/rotate', '/session', '/me']),
    );
    expect(Object.keys(doc.paths['/settings']!)).toEqual(expect.arrayContaining(['get', 'put']));
  });
});

describe('session housekeeping', () => {
  it('purgeEndedSessions deletes sessions that ended long ago and keeps the rest', async () => {
    const t = await newTenant();
    const cookies: string[] = [];
    for (const role of ['viewer', 'operator', 'sre'] as const) {
      const res = await api('/session', { method: 'POST', json: { key: t.keys[role] } });
      cookies.push(res.headers.get('set-cookie')!.split(';')[0]!);
    }
    const ids: string[] = [];
    for (const cookie of cookies) ids.push((await json<{ session: { id: string } }>(api('/me', { headers: { cookie } }))).session.id);
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await env.DB.prepare('UPDATE sessions SET expires_at = ? WHERE id = ?').bind(longAgo, ids[0]).run();
    await env.DB.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ?').bind(longAgo, ids[1]).run();

    expect(await purgeEndedSessions(makeDb(env.DB))).toBeGreaterThanOrEqual(2);
    const left = await env.DB.prepare(`SELECT id FROM sessions WHERE id IN (?, ?, ?)`).bind(...ids).all<{ id: string }>();
    expect(left.results.map((r) => r.id)).toEqual([ids[2]]);
    expect((await api('/me', { headers: { cookie: cookies[2]! } })).status).toBe(200);
  });
});
