// Stored credentials go only to the host they were given for, and the server calls no address a
// tenant admin chose on the private network or at a cloud metadata service (SSRF): integration
// base URLs, OIDC issuers and the endpoints their discovery documents name.
import { afterEach, describe, expect, it } from 'vitest';
import { api, BASE, json, newTenant, onUndo, setEnv, undoAll, type TestTenant } from './helpers';

afterEach(() => undoAll());

/** Records every outbound request the isolate makes; answers each one itself (no network). */
function recordFetches(answer: (req: Request) => Response = () => new Response('{"login":"bot"}', { headers: { 'content-type': 'application/json' } })) {
  const seen: { url: string; authorization: string | null }[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    if (req.url.startsWith(BASE)) return original(input, init);
    seen.push({ url: req.url, authorization: req.headers.get('authorization') });
    return answer(req);
  };
  onUndo(() => (globalThis.fetch = original));
  return seen;
}

type ErrorBody = { error: { code: string; details?: { path: string; message: string }[] } };

async function put(t: TestTenant, vendor: string, body: Record<string, unknown>) {
  return api(`/integrations/${vendor}`, { method: 'PUT', key: t.keys.admin, json: body });
}

describe('integration base URLs', () => {
  it('a new base_url needs the credentials again: the stored token is never sent to the new host', async () => {
    const t = await newTenant();
    const token = 'ghp_storedtoken0123456789abcdefABCDEF';
    expect((await put(t, 'github', { mode: 'live', base_url: 'https://ghe.example.com/api/v3', credentials: { token } })).status).toBe(200);
    const moved = await put(t, 'github', { base_url: 'https://collector.attacker.example' });
    expect(moved.status).toBe(400);
    expect((await json<ErrorBody>(moved)).error.details?.[0]?.path).toBe('credentials');
    expect((await put(t, 'github', { base_url: null })).status).toBe(400); // back to api.github.com: the same rule
    const view = await json<{ base_url: string | null }>(api('/integrations/github', { key: t.keys.admin }));
    expect(view.base_url).toBe('https://ghe.example.com/api/v3');

    const seen = recordFetches();
    const test = await api('/integrations/github/test', { method: 'POST', key: t.keys.admin });
    expect(test.status).toBe(200);
    expect(seen.map((r) => new URL(r.url).host)).toEqual(['ghe.example.com']);
    // With the credentials given again, the move is fine.
    expect((await put(t, 'github', { base_url: 'https://ghe2.example.com/api/v3', credentials: { token: 'ghp_newtoken0123456789abcdefABCDEFGH' } })).status).toBe(200);
  });

  it('link-local and metadata addresses are refused everywhere; plain http only for the local network of a deployment that allows it', async () => {
    const t = await newTenant();
    const creds = { email: 'bot@acme.test', api_token: 'jira-token-0123456789' };
    for (const base_url of ['http://169.254.169.254/latest/meta-data', 'https://169.254.169.254', 'https://[fe80::1]', 'https://metadata.google.internal', 'http://jira.example.com']) {
      const res = await put(t, 'jira', { mode: 'live', base_url, credentials: creds });
      expect(res.status, base_url).toBe(400);
      expect((await json<ErrorBody>(res)).error.details?.[0]?.path, base_url).toBe('base_url');
    }
    // The tests' deployment allows the local network (its fakes listen there) …
    expect((await put(t, 'jira', { mode: 'live', base_url: 'http://127.0.0.1:9', credentials: creds })).status).toBe(200);
    // … a real one does not, and a URL stored earlier is refused when it would be used.
    setEnv({ ALLOW_PRIVATE_NETWORK: 'false' });
    for (const base_url of ['http://127.0.0.1:9', 'https://10.1.2.3', 'https://localhost:8443', 'https://192.168.0.10']) {
      const res = await put(t, 'jira', { mode: 'live', base_url, credentials: creds });
      expect(res.status, base_url).toBe(400);
    }
    const seen = recordFetches();
    const test = await api('/integrations/jira/test', { method: 'POST', key: t.keys.admin });
    expect(test.status).toBe(400);
    expect((await json<ErrorBody>(test)).error.details?.[0]?.path).toBe('base_url');
    expect(seen).toEqual([]);
  });
});

describe('OIDC issuers', () => {
  it('an issuer at a link-local or metadata address is refused when saved', async () => {
    const t = await newTenant();
    for (const issuer of ['https://169.254.169.254', 'https://metadata.google.internal/', 'http://169.254.169.254']) {
      const res = await api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { issuer, client_id: 'arb' } } });
      expect(res.status, issuer).toBe(400);
      expect((await json<ErrorBody>(res)).error.details?.[0]?.path, issuer).toBe('oidc.issuer');
    }
  });

  async function startSignIn(t: TestTenant) {
    const res = await api(`/auth/oidc/${t.id}/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!, BASE);
  }

  it('a discovery document that names a metadata or private endpoint is refused before anything is fetched from it', async () => {
    const t = await newTenant();
    const issuer = `https://idp-${crypto.randomUUID().slice(0, 8)}.example`;
    const seen = recordFetches((req) =>
      Response.json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: new URL(req.url).pathname.includes('openid') ? 'http://169.254.169.254/keys' : '' }),
    );
    expect((await api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { issuer, client_id: 'arb', default_role: 'viewer' } } })).status).toBe(200);
    const to = await startSignIn(t);
    expect(to.pathname).toBe('/login');
    expect(to.searchParams.get('error')).toBe('discovery_failed');
    expect(to.searchParams.get('error_description')).toContain('jwks_uri');
    expect(seen.map((r) => r.url)).toEqual([`${issuer}/.well-known/openid-configuration`]);
  });

  it('an issuer on the local network is not contacted where the deployment does not allow it', async () => {
    const t = await newTenant();
    expect((await api('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { issuer: 'http://localhost:9999', client_id: 'arb', default_role: 'viewer' } } })).status).toBe(200);
    setEnv({ ALLOW_PRIVATE_NETWORK: 'false' });
    const seen = recordFetches();
    const to = await startSignIn(t);
    expect(to.searchParams.get('error')).toBe('discovery_failed');
    expect(to.searchParams.get('error_description')).toContain('loopback');
    expect(seen).toEqual([]);
  });
});
