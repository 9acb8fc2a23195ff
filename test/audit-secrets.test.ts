import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../worker/app';
import type { Env } from '../worker/env';
import { BASE, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil } from './run-helpers';

/** The secret bindings of the test Worker (vitest.workers.config.ts). */
const vars = env as unknown as Record<string, string | undefined>;

/**
 * Secrets never leave: not in logs (captured from the console of this isolate, where the Worker
 * and its Durable Objects run), not in any response, not in the metrics, not in the audit log
 * (API and export) and not in the spans sent to the OTLP collector.
 */

const rnd = () => crypto.randomUUID().replace(/-/g, '');
const OTLP_TOKEN = `otel-${rnd()}`;
const app = buildApp();
// The deployment's env, with tracing on (the collector is faked below).
const tracedEnv = { ...env, LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test:4318', OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${OTLP_TOKEN}` } as unknown as Env;

interface Exchange {
  method: string;
  path: string;
  status: number;
  text: string;
  headers: string;
}

let logs: string[] = [];
let exported: { headers: Record<string, string>; body: string }[] = [];
let exchanges: Exchange[] = [];
let outbound: { url: string; headers: Record<string, string> }[] = [];
const original = globalThis.fetch;

beforeEach(() => {
  logs = [];
  exported = [];
  exchanges = [];
  outbound = [];
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(' ')));
  }
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (new URL(req.url).host === 'collector.test:4318') {
      exported.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    }
    // Nothing here reaches the internet: any other host (GitHub, for the connection check) is refused.
    outbound.push({ url: req.url, headers: Object.fromEntries(req.headers) });
    return new Response(JSON.stringify({ message: 'Bad credentials' }), { status: 401, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
});

afterEach(() => {
  vi.restoreAllMocks();
  globalThis.fetch = original;
});

/** A client call through the Worker's fetch handler, waiting for its `waitUntil` work (span export). */
async function call(path: string, init: { method?: string; key?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Exchange> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) }), tracedEnv, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  const x = { method: init.method ?? 'GET', path, status: res.status, text, headers: JSON.stringify([...res.headers]) };
  exchanges.push(x);
  return x;
}

async function plant(t: TestTenant) {
  const secrets = {
    oidcClientSecret: `oidc-client-${rnd()}`,
    githubToken: `ghp_${rnd()}${rnd().slice(0, 4)}`,
    webhookSecret: `whsec-${rnd()}`,
  };
  const put = await call('/settings', {
    method: 'PUT',
    key: t.keys.admin,
    json: { oidc: { issuer: 'https://idp.example.com', client_id: 'agentrunbook', client_secret: secrets.oidcClientSecret, role_mapping: { ops: 'sre' } } },
  });
  expect(put.status, put.text).toBe(200);
  const integ = await call('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', credentials: { token: secrets.githubToken }, webhook_secret: secrets.webhookSecret } });
  expect(integ.status, integ.text).toBe(200);
  // The stored forms, sealed with SECRETS_KEY.
  const row = await env.DB.prepare('SELECT settings FROM tenants WHERE id = ?').bind(t.id).first<{ settings: string }>();
  const sealedOidc = (JSON.parse(row!.settings) as { oidc: { client_secret_enc: string } }).oidc.client_secret_enc;
  const sealedIntegration = await env.DB.prepare('SELECT credentials_enc, webhook_secret_enc FROM integrations WHERE tenant_id = ?').bind(t.id).first<{ credentials_enc: string; webhook_secret_enc: string }>();
  expect(sealedOidc).toMatch(/^v1:/);
  // A browser session: its cookie is a secret too. The response that sets it is the one place it may be.
  const ctx = createExecutionContext();
  const login = await app.fetch(new Request(`${BASE}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: t.keys.operator }) }), tracedEnv, ctx);
  await waitOnExecutionContext(ctx);
  const cookie = /arb_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
  expect(cookie).toBeDefined();
  return {
    ...secrets,
    sealedOidc,
    sealedCredentials: sealedIntegration!.credentials_enc,
    sealedWebhook: sealedIntegration!.webhook_secret_enc,
    cookie: cookie!,
    ...Object.fromEntries(Object.entries(t.keys).map(([role, key]) => [`apiKey_${role}`, key])),
    secretsKey: vars.SECRETS_KEY!,
    sessionSecret: vars.SESSION_SECRET!,
    hmacKey: (JSON.parse(vars.AUDIT_HMAC_KEYS!) as Record<string, string>).k1!,
    signingKey: vars.AUDIT_SIGNING_KEY!,
    metricsToken: vars.METRICS_TOKEN!,
    otlpToken: OTLP_TOKEN,
  };
}

const RB = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: leaky }
spec:
  steps:
    - id: note
      tool: pagerduty.add_note
      with: { incident_id: PXYZ123, content: investigating }
`;

// Checkpoints are signed with a binding of the test Worker (vitest.workers.config.ts, AUDIT_SIGNING_KEY).
beforeAll(() => expect(vars.AUDIT_SIGNING_KEY, 'bind AUDIT_SIGNING_KEY in vitest.workers.config.ts').toBeTruthy());

describe('no secret leaves the platform', () => {
  it('in logs, responses, metrics, the audit log or traces', async () => {
    const t = await newTenant();
    const secrets = await plant(t);
    const cookieHeader = { cookie: `arb_session=${secrets.cookie}` };

    // Ordinary and failing traffic, with the secrets in the places a careless client puts them.
    await call('/settings', { key: t.keys.admin });
    await call('/integrations', { key: t.keys.admin });
    await call('/runs', { headers: cookieHeader });
    await call('/audit?limit=1000', { headers: cookieHeader });
    await call(`/runs?token=${secrets.githubToken}`, { key: t.keys.viewer });
    await call('/runs', { key: `${t.keys.viewer}x` }); // a wrong key: 401
    await call('/settings', { method: 'PUT', key: t.keys.admin, json: { oidc: { issuer: 'not a url', client_id: 'x', client_secret: secrets.oidcClientSecret } } }); // 400
    await call('/settings', { method: 'PUT', key: t.keys.viewer, json: { oidc: { issuer: 'https://idp.example.com', client_id: 'x', client_secret: secrets.oidcClientSecret } } }); // 403
    await call('/integrations/github/test', { method: 'POST', key: t.keys.admin, json: {} });
    await createRunbook(t.keys.sre, RB);
    const started = await call('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'leaky', context: { note: `token ${secrets.githubToken}` } } });
    await driveUntil(t.id, t.keys.sre, (JSON.parse(started.text) as { id: string }).id, ['succeeded', 'failed']);
    const metrics = await call('/metrics', { headers: { authorization: `Bearer ${secrets.metricsToken}`, 'cache-control': 'no-cache' } });
    expect(metrics.status).toBe(200);
    const exportText = (await call('/audit/export', { key: t.keys.viewer })).text;
    expect(exportText).toContain('settings.updated');
    expect(exportText).toContain('integration.updated');
    await call('/audit/verify', { key: t.keys.viewer });
    await call('/audit/checkpoints', { key: t.keys.viewer });

    const places = {
      logs: logs.join('\n'),
      responses: exchanges.map((x) => `${x.status} ${x.headers} ${x.text}`).join("\n"),
      metrics: metrics.text,
      audit: exportText,
      traces: exported.map((e) => e.body).join('\n'),
    };
    for (const [where, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) {
        const found = text.split('\n').filter((l) => l.includes(secret));
        expect(found.length, `${name} appears in ${where}: ${found.join('\n').slice(0, 600)}`).toBe(0);
      }
    }

    // The logs are structured: one JSON line per request, with who and what, and no credentials.
    const requests = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(exchanges.length);
    const settings = requests.find((r) => r.path === '/api/v1/settings' && r.method === 'PUT' && r.status === 200)!;
    expect(settings, JSON.stringify(settings)).toMatchObject({ level: 'info', route: '/api/v1/settings', tenant: t.id, principal: { type: 'api_key', role: 'admin' } });
    expect(settings.request_id).toMatch(/^req_/);
    expect(typeof settings.duration_ms).toBe('number');
    expect(requests.find((r) => r.status === 401)).toMatchObject({ level: 'info', path: '/api/v1/runs' });
    for (const r of requests) expect(Object.keys(r)).not.toEqual(expect.arrayContaining(['authorization']));
    // The spans went to the collector with its credentials, and carry the request's route and tenant.
    expect(exported[0]!.headers.authorization).toBe(`Bearer ${OTLP_TOKEN}`);
    const spans = exported.flatMap((e) => (JSON.parse(e.body) as { resourceSpans: { scopeSpans: { spans: { name: string; attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans);
    const put = spans.find((s) => s.name === 'PUT /api/v1/settings')!;
    expect(put.attributes.find((a) => a.key === 'agentrunbook.tenant')?.value.stringValue).toBe(t.id);
  });

  it('continues a caller\'s trace and puts the trace id on the request\'s log line', async () => {
    const t = await newTenant();
    const traceId = 'aa'.repeat(16);
    await call('/runs', { key: t.keys.viewer, headers: { traceparent: `00-${traceId}-${'bb'.repeat(8)}-01` } });
    const body = JSON.parse(exported[0]!.body) as { resourceSpans: { resource: { attributes: { key: string }[] }; scopeSpans: { spans: { traceId: string; parentSpanId: string; kind: number; name: string }[] }[] }[] };
    const span = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({ traceId, parentSpanId: 'bb'.repeat(8), kind: 2, name: 'GET /api/v1/runs' });
    expect(body.resourceSpans[0]!.resource.attributes.map((a) => a.key)).toContain('service.name');
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'request')!;
    expect(line.trace_id).toBe(traceId);
  });
});
