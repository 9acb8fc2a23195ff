import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../worker/app';
import type { Env } from '../worker/env';
import { STEP_BUCKETS } from '../worker/observability/metrics';
import { BASE, api, newTenant } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

const TOKEN = (env as unknown as { METRICS_TOKEN: string }).METRICS_TOKEN;

const NOTE = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: note }
spec:
  steps:
    - id: note
      tool: pagerduty.add_note
      with: { incident_id: PXYZ123, content: investigating }
    - id: again
      tool: pagerduty.add_note
      with: { incident_id: PXYZ123, content: still investigating }
`;

const CORDON = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: cordon }
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-7 }
`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format strictly: every line is a comment or a well-formed sample. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      expect(types.has(type[1]!), `TYPE twice for ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (help) {
      helps.add(help[1]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    expect(m, `not a sample: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    samples.push({ name: m![1]!, labels, value: Number(m![3]!.replace('+Inf', 'Infinity')) });
  }
  for (const name of types.keys()) expect(helps.has(name), `HELP for ${name}`).toBe(true);
  return { samples, types };
}

const scrape = (token = TOKEN) => api('/metrics', { headers: { authorization: `Bearer ${token}`, 'cache-control': 'no-cache' } });

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

// The scrape token is a binding of the test Worker (vitest.workers.config.ts, METRICS_TOKEN).
beforeAll(() => expect(TOKEN, 'bind METRICS_TOKEN in vitest.workers.config.ts').toBeTruthy());

describe('GET /metrics', () => {
  it('needs the scrape token, not an API key', async () => {
    const t = await newTenant();
    const none = await api('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await scrape('wrong-token')).status).toBe(401);
    expect((await scrape(t.keys.admin)).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('is off, with a 503 saying how to turn it on, without METRICS_TOKEN', async () => {
    const ctx = createExecutionContext();
    const res = await buildApp().fetch(new Request(`${BASE}/metrics`, { headers: { authorization: 'Bearer x' } }), { ...env, METRICS_TOKEN: undefined } as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('METRICS_TOKEN');
  });

  it('counts runs by status, steps, approvals waiting, policy denials, tokens, cost, deliveries and the audit log, per tenant', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, NOTE);
    await createRunbook(t.keys.sre, CORDON);
    const ok = await startRun(t.keys.sre, { runbook: 'note' });
    await driveUntil(t.id, t.keys.sre, ok, ['succeeded']);
    const denied = await startRun(t.keys.operator, { runbook: 'cordon' }); // operators may not cordon
    await driveUntil(t.id, t.keys.operator, denied, ['denied']);
    const waiting = await startRun(t.keys.sre, { runbook: 'cordon', context: { environment: 'prod' } });
    await driveUntil(t.id, t.keys.sre, waiting, ['awaiting_approval']);
    await env.DB.prepare('UPDATE runs SET tokens = 1200, cost_usd = 0.42 WHERE id = ?').bind(ok).run();
    await env.DB.prepare(`INSERT INTO webhook_deliveries (tenant_id, source, delivery_id, runs) VALUES (?, 'github', 'd1', '["run_x"]'), (?, 'github', 'd2', '[]')`).bind(t.id, t.id).run();

    const res = await scrape();
    const { samples, types } = parse(await res.text());
    const mine = { tenant: t.id };
    expect(value(samples, 'agentrunbook_runs', { ...mine, status: 'succeeded', mode: 'execute' })).toBe(1);
    expect(value(samples, 'agentrunbook_runs', { ...mine, status: 'denied', mode: 'execute' })).toBe(1);
    expect(value(samples, 'agentrunbook_runs', { ...mine, status: 'awaiting_approval', mode: 'execute' })).toBe(1);
    expect(value(samples, 'agentrunbook_approvals_waiting', mine)).toBe(1);
    expect(value(samples, 'agentrunbook_policy_denials_total', mine)).toBe(1);
    expect(value(samples, 'agentrunbook_steps', { ...mine, status: 'succeeded' })).toBe(2);
    expect(value(samples, 'agentrunbook_run_tokens_total', mine)).toBe(1200);
    expect(value(samples, 'agentrunbook_run_cost_usd_total', mine)).toBe(0.42);
    expect(value(samples, 'agentrunbook_webhook_deliveries_total', { ...mine, source: 'github' })).toBe(2);
    expect(value(samples, 'agentrunbook_webhook_deliveries_started_runs_total', { ...mine, source: 'github' })).toBe(1);
    const lastSeq = await env.DB.prepare('SELECT max(seq) AS n FROM audit_log WHERE tenant_id = ?').bind(t.id).first<{ n: number }>();
    expect(value(samples, 'agentrunbook_audit_entries', mine)).toBe(lastSeq!.n);
    expect(samples.find((s) => s.name === 'agentrunbook_tenant_info' && s.labels.tenant === t.id)?.labels.name).toMatch(/^test-/);
    expect(types.get('agentrunbook_step_duration_seconds')).toBe('histogram');
    expect(types.get('agentrunbook_policy_denials_total')).toBe('counter');

    // The step latency histogram: one series per tool, cumulative buckets ending in +Inf = count.
    const hist = (suffix: string) => samples.filter((s) => s.name === `agentrunbook_step_duration_seconds${suffix}` && s.labels.tenant === t.id && s.labels.tool === 'pagerduty.add_note');
    const buckets = hist('_bucket');
    expect(buckets.map((b) => b.labels.le)).toEqual([...STEP_BUCKETS.map(String), '+Inf']);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(hist('_count')[0]!.value).toBe(2);
    expect(buckets.at(-1)!.value).toBe(2);
    expect(hist('_sum')[0]!.value).toBeGreaterThanOrEqual(0);
    // Steps that never started (denied before the call, or waiting) are not timed.
    expect(samples.some((s) => s.name.startsWith('agentrunbook_step_duration_seconds') && s.labels.tenant === t.id && s.labels.tool === 'k8s.cordon_node')).toBe(false);
  });

  it('reports every tenant by its own label, with zeroes for a tenant without runs', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await createRunbook(a.keys.sre, NOTE);
    await driveUntil(a.id, a.keys.sre, await startRun(a.keys.sre, { runbook: 'note' }), ['succeeded']);
    const { samples } = parse(await (await scrape()).text());
    expect(value(samples, 'agentrunbook_runs', { tenant: a.id, status: 'succeeded', mode: 'execute' })).toBe(1);
    expect(samples.some((s) => s.name === 'agentrunbook_runs' && s.labels.tenant === b.id)).toBe(false);
    expect(value(samples, 'agentrunbook_approvals_waiting', { tenant: b.id })).toBe(0);
    expect(value(samples, 'agentrunbook_run_tokens_total', { tenant: b.id })).toBe(0);
  });
});
