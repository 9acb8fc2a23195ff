import { describe, expect, it } from 'vitest';
import { api, json, newTenant } from './helpers';

describe('API contract', () => {
  it('GET /healthz answers without auth', async () => {
    const res = await api('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('no auth key → 401 in the one error shape', async () => {
    const res = await api('/runbooks');
    expect(res.status).toBe(401);
    const body = await json<{ error: { code: string; message: string }; request_id: string }>(res);
    expect(body.error.code).toBe('unauthorized');
    expect(body.request_id).toMatch(/^req_/);
  });

  it('a wrong key → 401', async () => {
    const res = await api('/runbooks', { key: 'ark_notarealkeynotarealkeynotarealkey1234' });
    expect(res.status).toBe(401);
  });

  it('unknown API route → 404 JSON', async () => {
    const t = await newTenant();
    const res = await api('/nope', { key: t.keys.admin });
    expect(res.status).toBe(404);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe('not_found');
  });

  it('serves an OpenAPI 3.1 document and a docs page', async () => {
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(api('/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/runbooks', '/runs', '/runs/{id}', '/tools', '/audit/verify']));
    const docs = await api('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('openapi.json');
  });
});
