// Input built to exhaust the Worker: documents nested to overflow a parser's stack, expressions
// that cost seconds to evaluate, text that makes redaction backtrack. Each gets a 4xx or finishes
// in linear time; none reaches a 5xx or holds the isolate.
import { describe, expect, it } from 'vitest';
import { api, json, newTenant } from './helpers';

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
});
