// Login CSRF: another site must not be able to start a sign-in in a victim's browser, which would
// replace their session with one in a tenant and identity provider the attacker chose.
import { exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOidcIssuer } from './fakes/oidc-issuer';
import { api, newTenant } from './helpers';

const ORIGIN = 'http://agentrunbook.test';
const CLIENT = { client_id: 'agentrunbook', client_secret: 'idp-client-secret-0123456789', auth_method: 'client_secret_basic' as const };

const undo: (() => void)[] = [];
afterEach(() => {
  while (undo.length) undo.pop()!();
});

async function tenantWithIdp() {
  const t = await newTenant();
  const issuer = await FakeOidcIssuer.create({ clients: [CLIENT] });
  undo.push(issuer.install());
  const res = await api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { issuer: issuer.issuer, client_id: CLIENT.client_id, client_secret: CLIENT.client_secret, default_role: 'viewer' } } });
  expect(res.status, await res.clone().text()).toBe(200);
  return t;
}

function startLogin(tenantId: string, headers: Record<string, string>) {
  return exports.default.fetch(new Request(`${ORIGIN}/api/v1/auth/oidc/${tenantId}/login`, { headers, redirect: 'manual' }));
}

describe('OIDC sign-in start (login CSRF)', () => {
  it('a navigation from another site is sent back to the sign-in page, with no login state set', async () => {
    const t = await tenantWithIdp();
    for (const headers of <Record<string, string>[]>[
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' },
      { referer: 'https://evil.example/page' },
      { origin: 'https://evil.example' },
    ]) {
      const res = await startLogin(t.id, headers);
      expect(res.status, JSON.stringify(headers)).toBe(302);
      const to = new URL(res.headers.get('location')!, ORIGIN);
      expect(to.pathname, JSON.stringify(headers)).toBe('/login');
      expect(to.searchParams.get('error')).toBe('cross_site_start');
      expect(res.headers.get('set-cookie') ?? '', JSON.stringify(headers)).not.toContain('arb_oidc');
    }
  });

  it('the sign-in page of this site, the address bar and non-browser clients start it', async () => {
    const t = await tenantWithIdp();
    for (const headers of <Record<string, string>[]>[{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { referer: `${ORIGIN}/login` }, {}]) {
      const res = await startLogin(t.id, headers);
      expect(res.status, JSON.stringify(headers)).toBe(302);
      expect(new URL(res.headers.get('location')!).pathname, JSON.stringify(headers)).toBe('/authorize');
      expect(res.headers.get('set-cookie')).toContain('arb_oidc=');
    }
  });
});
