import fc from 'fast-check';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import nodeNotReady from '../runbooks/node-not-ready.yaml';
import { hmacHex } from '../worker/lib/crypto';
import { api, BASE, json, newTenant, type TestTenant } from './helpers';
import { createRunbook } from './run-helpers';

/**
 * Property-based fuzzing of every JSON and YAML input: whatever arrives, the API answers below
 * 500, and a 400 names the field (`details[].path`). The budget is bounded so `npm test` stays fast;
 * FUZZ_RUNS raises it for a longer hunt.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const counts: Record<string, number> = {};
/** The statuses each input got, so a summary shows the fuzz reached validation (not only 401s). */
const statuses: Record<string, Record<number, number>> = {};
const tally = (labels: string[]) => labels.map((l) => `${l} ${counts[l] ?? 0} (${Object.entries(statuses[l] ?? {}).map(([code, n]) => `${code}×${n}`).join(' ')})`).join(', ');

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { path?: unknown; message?: unknown }[] };
}

async function check(label: string, res: Response): Promise<void> {
  counts[label] = (counts[label] ?? 0) + 1;
  (statuses[label] ??= {})[res.status] = (statuses[label][res.status] ?? 0) + 1;
  const text = await res.text();
  expect(res.status, `${label}: ${text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status === 400) {
    const body = JSON.parse(text) as ErrorBody;
    expect(body.error?.details?.length ?? 0, `${label}: a 400 without details: ${text.slice(0, 300)}`).toBeGreaterThan(0);
    for (const d of body.error!.details!) {
      expect(typeof d.path === 'string' && d.path.length > 0, `${label}: detail without a field: ${JSON.stringify(d)}`).toBe(true);
      expect(typeof d.message === 'string' && d.message.length > 0).toBe(true);
    }
  }
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // never a stack trace
}

/** Valid-looking bodies with one thing wrong, and bodies of any shape at all. */
function bodies(valid: Record<string, unknown>) {
  const keys = Object.keys(valid);
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  return fc.oneof(
    fc.constant(valid),
    anyJson,
    fc.record({ key: fc.constantFrom(...keys), value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constantFrom(...keys).map((key) => {
      const copy: Record<string, unknown> = { ...valid };
      delete copy[key];
      return copy;
    }),
    fc.record({ key: fc.string({ minLength: 1, maxLength: 12 }), value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
  );
}

let t: TestTenant;
let waitingRun = '';

function keyOf(r: JsonRoute): string | undefined {
  return r.key === 'none' ? undefined : t.keys[r.key ?? 'sre'];
}

async function setup(): Promise<void> {
  t = await newTenant();
  await createRunbook(t.keys.sre, nodeNotReady);
  expect((await api('/integrations/alertmanager', { method: 'PUT', key: t.keys.admin, json: { webhook_secret: HOOK_SECRET } })).status).toBe(200);
  const started = await json<{ id: string }>(api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'node-not-ready', inputs: { node: 'n1' }, mode: 'dry_run' } }));
  waitingRun = started.id;
}

/** A fuzzed JSON input; `op` is its OpenAPI operation when the label names a concrete path. */
interface JsonRoute {
  label: string;
  op?: string;
  method: string;
  path: () => string;
  valid: Record<string, unknown>;
  /** Whose key calls it; `none` sends no key (routes that authenticate otherwise). */
  key?: 'admin' | 'sre' | 'none';
  headers?: () => Record<string, string>;
}

const HOOK_SECRET = 'fuzz-hook-secret-0123456789';
const evalReport = {
  format: 'agentrunbook.eval/1',
  id: 'eval_fuzz',
  created_at: '2026-01-05T09:00:00.000Z',
  provider: 'stub',
  model: 'stub',
  k: 1,
  cases: 1,
  passed: 1,
  metrics: { pass_at_k: 1, pass_rate: 1, match_score: 1, exact_plan_rate: 1, hallucination_rate: 0, policy_violations: 0, attack_success_rate: 0, attack_success_rate_scripted: 0, latency_p50_ms: 1, latency_p95_ms: 2, tokens: 0, cost_usd: 0 },
  results: [{ case: 'k8s-a', integration: 'k8s', tags: [], passed: true, score: 1, exact: true, attempts: [{ rep: 0, passed: true, score: 1, failures: [] }] }],
};

const JSON_ROUTES: JsonRoute[] = [
  { label: 'POST /runs', method: 'POST', path: () => '/runs', valid: { runbook: 'node-not-ready', inputs: { node: 'n1' }, context: { environment: 'prod' }, mode: 'dry_run' } },
  { label: 'POST /tools/plan', method: 'POST', path: () => '/tools/plan', valid: { tool: 'k8s.cordon_node', args: { cluster: 'c', node: 'n' }, context: {} } },
  { label: 'POST /tools/invoke', method: 'POST', path: () => '/tools/invoke', valid: { tool: 'k8s.get_node', args: { cluster: 'c', node: 'n' }, mode: 'dry_run' } },
  { label: 'POST /keys', method: 'POST', path: () => '/keys', valid: { name: 'fuzz', role: 'viewer', owner: 'fuzz@example.com' }, key: 'admin' },
  { label: 'PUT /people/{email}', op: 'PUT /people/{email}', method: 'PUT', path: () => '/people/fuzz%40example.com', valid: { role: 'viewer' }, key: 'admin' },
  { label: 'POST /tenants', method: 'POST', path: () => '/tenants', valid: { name: 'fuzz-tenant' }, key: 'admin' },
  {
    label: 'PUT /settings',
    method: 'PUT',
    path: () => '/settings',
    valid: {
      rate_limit: { requests_per_minute: 600 },
      time_zone: 'Europe/Berlin',
      business_hours: { days: ['mon', 'fri'], start: '09:00', end: '17:30' },
      change_freezes: [{ name: 'fuzz', start: '2026-12-20T00:00:00Z', end: '2027-01-02T00:00:00+01:00', reason: 'holidays' }],
    },
    key: 'admin',
  },
  { label: 'PUT /integrations/github', op: 'PUT /integrations/{vendor}', method: 'PUT', path: () => '/integrations/github', valid: { mode: 'simulated', webhook_secret: 'fuzz-secret-0123456789', target_labels: { 'acme/shop': { environment: 'prod' } } }, key: 'admin' },
  { label: 'PUT /integrations/jira', op: 'PUT /integrations/{vendor}', method: 'PUT', path: () => '/integrations/jira', valid: { mode: 'live', base_url: 'https://jira.example.com', credentials: { email: 'a@example.com', api_token: 't' } }, key: 'admin' },
  { label: 'PUT /integrations/pagerduty', op: 'PUT /integrations/{vendor}', method: 'PUT', path: () => '/integrations/pagerduty', valid: { mode: 'simulated', credentials: { token: 'pd-token', from_email: 'a@example.com' } }, key: 'admin' },
  { label: 'POST /clusters', method: 'POST', path: () => '/clusters', valid: { name: 'fuzz-cluster', labels: { environment: 'prod', region: 'eu' } }, key: 'admin' },
  { label: 'PATCH /clusters/{name}', method: 'PATCH', path: () => '/clusters/fuzz-cluster', valid: { labels: { environment: 'dev' } }, key: 'admin' },
  { label: 'POST /evals', method: 'POST', path: () => '/evals', valid: evalReport, key: 'admin' },
  { label: 'POST /bootstrap', method: 'POST', path: () => '/bootstrap', valid: { admin_key: `ark_${'a'.repeat(24)}`, tenant_name: 'fuzz', only_if_empty: true }, key: 'none', headers: () => ({ 'x-bootstrap-token': 'not-the-token' }) },
  {
    label: 'POST /hooks/{tenant}/alertmanager',
    op: 'POST /hooks/{tenant}/{source}',
    method: 'POST',
    path: () => `/hooks/${t.id}/alertmanager`,
    valid: { version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'FuzzAlert', node: 'n1' } }] },
    key: 'none',
    headers: () => ({ authorization: `Bearer ${HOOK_SECRET}` }),
  },
  { label: 'POST /policies/{id}/simulate', method: 'POST', path: () => '/policies/none/simulate', valid: { runs: 5 } },
  { label: 'POST /runs/{id}/cancel', method: 'POST', path: () => `/runs/${waitingRun}/cancel`, valid: { compensate: true } },
  { label: 'POST /runs/{id}/steps/{step}/approve', method: 'POST', path: () => `/runs/${waitingRun}/steps/drain/approve`, valid: { comment: 'ok' } },
  { label: 'POST /runs/{id}/steps/{step}/deny', method: 'POST', path: () => `/runs/${waitingRun}/steps/drain/deny`, valid: { comment: 'no' } },
  { label: 'POST /session', method: 'POST', path: () => '/session', valid: { key: 'ark_x' } },
  { label: 'POST /keys/{id}/rotate', method: 'POST', path: () => '/keys/key_none/rotate', valid: { grace: '1h' }, key: 'admin' },
];

/** Operations with a body that the property fuzzers leave to a suite of their own. */
const NOT_FUZZED = new Set<string>([]);

const YAML_ROUTES: { label: string; op: string; method: string; path: string; seed: string }[] = [
  { label: 'POST /runbooks (yaml)', op: 'POST /runbooks', method: 'POST', path: '/runbooks', seed: nodeNotReady },
  { label: 'POST /runbooks/validate (yaml)', op: 'POST /runbooks/validate', method: 'POST', path: '/runbooks/validate', seed: nodeNotReady },
  { label: 'PUT /runbooks/{id} (yaml)', op: 'PUT /runbooks/{id}', method: 'PUT', path: '/runbooks/node-not-ready', seed: nodeNotReady },
  { label: 'POST /policies (yaml)', op: 'POST /policies', method: 'POST', path: '/policies', seed: defaultPolicy },
  { label: 'POST /policies/validate (yaml)', op: 'POST /policies/validate', method: 'POST', path: '/policies/validate', seed: defaultPolicy },
];

/** A seed document with one edit: a line dropped, duplicated, re-indented, or a token changed. */
function mutated(seed: string) {
  const lines = seed.split('\n');
  return fc
    .record({ at: fc.nat({ max: lines.length - 1 }), how: fc.integer({ min: 0, max: 4 }), junk: fc.string({ maxLength: 20 }) })
    .map(({ at, how, junk }) => {
      const copy = [...lines];
      if (how === 0) copy.splice(at, 1);
      else if (how === 1) copy.splice(at, 0, copy[at]!);
      else if (how === 2) copy[at] = `   ${copy[at]}`;
      else if (how === 3) copy[at] = copy[at]!.replace(/:\s*\S+/, `: ${junk}`);
      else copy[at] = junk;
      return copy.join('\n');
    });
}

describe('security: fuzzing every input', () => {
  it('fuzzes every operation of the API that takes a body', async () => {
    const doc = await json<{ paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>> }>(api('/openapi.json'));
    const withBody = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody)
        .map(([m]) => `${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`),
    );
    const fuzzed = new Set([...JSON_ROUTES, ...YAML_ROUTES].map((r) => (r.op ?? r.label).replace(/\{[^}]+\}/g, '{}')));
    expect(withBody.filter((op) => !fuzzed.has(op) && !NOT_FUZZED.has(op)), 'operations with a body that no fuzzer covers').toEqual([]);
  });

  it('JSON bodies: never a 5xx; every 400 names its fields', async () => {
    await setup();
    // Not JSON at all — first, while the tenant's settings are the defaults: the fuzzed PUT /settings
    // bodies below may lower its rate limit, and a 429 would then hide the 400 this asserts.
    for (const r of JSON_ROUTES) {
      await check(`${r.label} (not JSON)`, await api(r.path(), { method: r.method, key: keyOf(r), body: '{"unterminated": ', headers: { 'content-type': 'application/json', ...r.headers?.() } }));
    }
    for (const r of JSON_ROUTES) {
      await fc.assert(
        fc.asyncProperty(bodies(r.valid), async (body) => {
          await check(r.label, await api(r.path(), { method: r.method, key: keyOf(r), json: body, headers: r.headers?.() }));
        }),
        { numRuns: RUNS },
      );
    }
    console.log(`[fuzz] JSON: ${tally(JSON_ROUTES.map((r) => r.label))}; not JSON: ${JSON_ROUTES.length} routes, each 400`);
    for (const r of JSON_ROUTES) expect(statuses[`${r.label} (not JSON)`], `${r.label} (not JSON)`).toEqual({ 400: 1 });
  }, 240_000);

  it('YAML documents: never a 5xx; every 400 names the path (and line when it has one)', async () => {
    if (!t) await setup();
    for (const r of YAML_ROUTES) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutated(r.seed), fc.string({ maxLength: 200 })), async (yaml) => {
          await check(r.label, await api(r.path, { method: r.method, key: t.keys.admin, yaml }));
        }),
        { numRuns: RUNS * 2 },
      );
    }
    console.log(`[fuzz] YAML: ${tally(YAML_ROUTES.map((r) => r.label))}`);
  }, 240_000);

  it('oversized bodies are refused with 413 before they are parsed', async () => {
    if (!t) await setup();
    const big = 'x'.repeat(1024 * 1024 + 10);
    for (const path of ['/runs', '/runbooks', '/policies', '/tools/invoke', `/hooks/${t.id}/generic`]) {
      const res = await exports.default.fetch(new Request(`${BASE}${path}`, { method: 'POST', body: big, headers: { 'content-type': 'application/json', authorization: `Bearer ${t.keys.admin}` } }));
      expect(res.status, path).toBe(413);
    }
    console.log('[oversized] 5 routes refused a 1 MiB + 10 B body with 413');
  });
});

describe('security: hostile webhook corpus', () => {
  it('every forged, malformed, stale or oversized delivery is refused and starts nothing', async () => {
    const h = await newTenant();
    const secret = 'corpus-secret-0123456789';
    for (const source of ['github', 'pagerduty', 'alertmanager', 'generic']) {
      expect((await api(`/integrations/${source}`, { method: 'PUT', key: h.keys.admin, json: { webhook_secret: secret } })).status).toBe(200);
    }
    await createRunbook(
      h.keys.sre,
      `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: catch-all }
spec:
  triggers:
    - { source: github, when: 'true' }
    - { source: pagerduty, when: 'true' }
    - { source: alertmanager, when: 'true' }
    - { source: generic, when: 'true' }
  steps:
    - { id: wait, tool: core.wait, with: { duration: 1s } }
`,
    );
    const body = JSON.stringify({ event: { id: 'evt-1', event_type: 'incident.triggered' }, status: 'firing', alerts: [] });
    const sig = await hmacHex(secret, body);
    const now = Math.floor(Date.now() / 1000);
    const corpus: { name: string; source: string; body: string; headers: Record<string, string> }[] = [
      { name: 'github: signature of another body', source: 'github', body, headers: { 'x-hub-signature-256': `sha256=${await hmacHex(secret, body + ' ')}`, 'x-github-delivery': 'a' } },
      { name: 'github: sha1 signature only', source: 'github', body, headers: { 'x-hub-signature': `sha1=${'0'.repeat(40)}`, 'x-github-delivery': 'b' } },
      { name: 'github: truncated signature', source: 'github', body, headers: { 'x-hub-signature-256': `sha256=${sig.slice(0, 32)}`, 'x-github-delivery': 'c' } },
      { name: 'github: uppercase scheme, empty hex', source: 'github', body, headers: { 'x-hub-signature-256': 'SHA256=', 'x-github-delivery': 'd' } },
      { name: 'github: 64 KB header', source: 'github', body, headers: { 'x-hub-signature-256': `sha256=${'a'.repeat(65_536)}`, 'x-github-delivery': 'e' } },
      { name: 'github: valid signature, no delivery id', source: 'github', body, headers: { 'x-hub-signature-256': `sha256=${sig}` } },
      { name: 'pagerduty: 1000 bad signatures', source: 'pagerduty', body, headers: { 'x-pagerduty-signature': Array.from({ length: 1000 }, (_, i) => `v1=${i.toString(16).padStart(64, '0')}`).join(',') } },
      { name: 'pagerduty: v0 scheme', source: 'pagerduty', body, headers: { 'x-pagerduty-signature': `v0=${sig}` } },
      { name: 'alertmanager: basic auth', source: 'alertmanager', body, headers: { authorization: `Basic ${btoa(`x:${secret}`)}` } },
      { name: 'alertmanager: token prefix', source: 'alertmanager', body, headers: { authorization: `Bearer ${secret.slice(0, -1)}` } },
      { name: 'alertmanager: token with a suffix', source: 'alertmanager', body, headers: { authorization: `Bearer ${secret}x` } },
      { name: 'generic: stale timestamp', source: 'generic', body, headers: { 'x-agentrunbook-timestamp': String(now - 3600), 'x-agentrunbook-signature': `v1=${await hmacHex(secret, `${now - 3600}.${body}`)}` } },
      { name: 'generic: future timestamp', source: 'generic', body, headers: { 'x-agentrunbook-timestamp': String(now + 3600), 'x-agentrunbook-signature': `v1=${await hmacHex(secret, `${now + 3600}.${body}`)}` } },
      { name: 'generic: signature without the timestamp', source: 'generic', body, headers: { 'x-agentrunbook-timestamp': String(now), 'x-agentrunbook-signature': `v1=${sig}` } },
      { name: 'generic: timestamp as a float', source: 'generic', body, headers: { 'x-agentrunbook-timestamp': `${now}.5`, 'x-agentrunbook-signature': `v1=${await hmacHex(secret, `${now}.5.${body}`)}` } },
      { name: 'generic: delivery id with slashes', source: 'generic', body, headers: { 'x-agentrunbook-timestamp': String(now), 'x-agentrunbook-signature': `v1=${await hmacHex(secret, `${now}.${body}`)}`, 'x-agentrunbook-delivery': '../../etc/passwd' } },
    ];
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    // Authentic but not an event: refused as input, nothing evaluated.
    corpus.push({ name: 'alertmanager: valid token, an array nested 5000 deep', source: 'alertmanager', body: deep, headers: { authorization: `Bearer ${secret}` } });
    corpus.push({ name: 'alertmanager: valid token, not JSON', source: 'alertmanager', body: '<xml/>', headers: { authorization: `Bearer ${secret}` } });
    const statuses: string[] = [];
    for (const c of corpus) {
      const res = await exports.default.fetch(new Request(`${BASE}/hooks/${h.id}/${c.source}`, { method: 'POST', body: c.body, headers: { 'content-type': 'application/json', ...c.headers } }));
      statuses.push(`${c.name}: ${res.status}`);
      expect(res.status, c.name).toBeGreaterThanOrEqual(400);
      expect(res.status, c.name).toBeLessThan(500);
    }
    const runs = await json<{ items: unknown[] }>(api('/runs', { key: h.keys.viewer }));
    expect(runs.items, statuses.join('\n')).toHaveLength(0);
    console.log(`[hostile webhooks] ${corpus.length} refused, 0 runs started`);
  }, 60_000);
});
