// Input built to exhaust the Worker: documents nested to overflow a parser's stack, expressions
// that cost seconds to evaluate, text that makes redaction backtrack. Each gets a 4xx or finishes
// in linear time; none reaches a 5xx or holds the isolate.
import { describe, expect, it } from 'vitest';
import { exports } from 'cloudflare:workers';
import { api, BASE, json, newTenant } from './helpers';
import { createRunbook } from './run-helpers';

describe('hostile input', () => {
  it('a runbook nested 100,000 levels deep is refused with a 400 naming the line, not a stack overflow', async () => {
    const t = await newTenant();
    const depth = 100_000;
    const yaml = `apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: deep }\nspec:\n  steps: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const res = await api('/runbooks', { method: 'POST', key: t.keys.sre, yaml });
    const body = await json<{ error: { details?: { path: string; line?: number; message: string }[] } }>(res);
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(400);
    expect(body.error.details).toEqual([{ path: '(document)', line: 5, message: 'document nests deeper than 64 levels' }]);
  });

  it('a trigger whose condition would run for seconds is stopped by the evaluation budget; the delivery is answered at once', async () => {
    const t = await newTenant();
    expect((await api('/integrations/alertmanager', { method: 'PUT', key: t.keys.admin, json: { webhook_secret: 'hostile-hook-secret-0123456789' } })).status).toBe(200);
    const list = `[${Array.from({ length: 30 }, (_, i) => i).join(',')}]`;
    const when = Array.from({ length: 5 }, (_, i) => `${list}.all(v${i}, `).join('') + 'event.status == "firing"' + ')'.repeat(5);
    await createRunbook(t.keys.sre, `apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: costly }\nspec:\n  triggers:\n    - source: alertmanager\n      when: '${when}'\n  steps:\n    - { id: wait, tool: core.wait, with: { duration: 1s } }\n`);
    const t0 = Date.now();
    const res = await exports.default.fetch(
      new Request(`${BASE}/hooks/${t.id}/alertmanager`, { method: 'POST', body: '{"status":"firing","alerts":[]}', headers: { 'content-type': 'application/json', authorization: 'Bearer hostile-hook-secret-0123456789' } }),
    );
    const body = await json<{ runs: string[]; matches: { error?: string }[] }>(res);
    expect(res.status).toBe(202);
    expect(body.runs).toEqual([]);
    expect(body.matches[0]?.error).toContain('expression is too costly');
    expect(Date.now() - t0).toBeLessThan(3000); // 24 million iterations took seconds; the budget stops it in well under one
  });
});
