import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { FakeOidcIssuer, type FakeClient } from './fakes/oidc-issuer';
import { api, onUndo, type TestTenant } from './helpers';

const ORIGIN = 'http://agentrunbook.test';
export const OIDC_CLIENT: FakeClient = { client_id: 'agentrunbook', client_secret: 'idp-client-secret-0123456789', auth_method: 'client_secret_basic' };

/** A fake identity provider for the test, routed until `undoAll`. */
export async function fakeIssuer(): Promise<FakeOidcIssuer> {
  const issuer = await FakeOidcIssuer.create({ clients: [OIDC_CLIENT] });
  onUndo(issuer.install());
  return issuer;
}

/** Turns on sign-in through `issuer` for the tenant with the given group mapping. */
export async function useIssuer(t: TestTenant, issuer: FakeOidcIssuer, oidc: Record<string, unknown> = {}): Promise<void> {
  const res = await api('/settings', {
    method: 'PUT',
    key: t.keys.admin,
    json: { oidc: { issuer: issuer.issuer, client_id: OIDC_CLIENT.client_id, client_secret: OIDC_CLIENT.client_secret, role_mapping: { 'sre-team': 'sre' }, ...oidc } },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

function cookieOf(res: Response, name: string): string | undefined {
  for (const line of res.headers.getAll('set-cookie')) {
    const pair = line.split(';')[0]!;
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) return pair;
  }
  return undefined;
}

/** A browser signing in as `issuer.user` (login → IdP auto-consent → callback); the session cookie, or undefined if refused. */
export async function browserSignIn(t: TestTenant): Promise<string | undefined> {
  const login = await exports.default.fetch(new Request(`${ORIGIN}/api/v1/auth/oidc/${t.id}/login?return_to=%2F`, { redirect: 'manual' }));
  expect(login.status).toBe(302);
  const state = cookieOf(login, 'arb_oidc')!;
  const authorize = await fetch(new URL(login.headers.get('location')!), { redirect: 'manual' });
  const callback = await exports.default.fetch(new Request(authorize.headers.get('location')!, { headers: { cookie: state }, redirect: 'manual' }));
  return cookieOf(callback, 'arb_session');
}
