import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { makeDb } from '../worker/db/client';
import { putTenantSettings } from '../worker/store/settings';
import { api, json, newTenant } from './helpers';

describe('rate limits per subject', () => {
  it('a caller over the tenant limit gets 429 with Retry-After; other callers are unaffected', async () => {
    const t = await newTenant();
    await putTenantSettings(makeDb(env.DB), t.id, { rate_limit: { requests_per_minute: 60, burst: 3 } });
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const res = await api('/runbooks', { key: t.keys.viewer });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await api('/runbooks', { key: t.keys.viewer });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const body = await json<{ error: { code: string; message: string } }>(limited);
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/60 per minute/);
    // Another key of the same tenant has its own bucket.
    expect((await api('/runbooks', { key: t.keys.operator })).status).toBe(200);
  });

  it('without tenant settings the deployment default applies and is advertised', async () => {
    const t = await newTenant();
    const res = await api('/me', { key: t.keys.viewer });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('ratelimit-limit'))).toBeGreaterThanOrEqual(100);
  });

  it('the bucket refills with time (token bucket arithmetic)', async () => {
    const stub = env.LIMITER.get(env.LIMITER.idFromName(`unit:${Math.random()}`));
    const t0 = 1_000_000;
    for (let i = 0; i < 2; i++) expect((await stub.take(120, 2, t0)).ok).toBe(true);
    const empty = await stub.take(120, 2, t0);
    expect(empty).toMatchObject({ ok: false, remaining: 0, retry_after_s: 1 });
    expect((await stub.take(120, 2, t0 + 499)).ok).toBe(false);
    expect((await stub.take(120, 2, t0 + 1000)).ok).toBe(true); // 2 per second: half a second buys one
    expect((await stub.take(120, 2, t0 + 60_000)).remaining).toBe(1); // never more than the bucket
  });

  it('sign-in attempts are limited per client address', async () => {
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      const res = await api('/session', { method: 'POST', json: { key: 'ark_wrongwrongwrongwrongwrongwrongwrongwrong' }, headers: { 'cf-connecting-ip': '203.0.113.9' } });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});
