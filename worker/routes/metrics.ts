import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { timingSafeEqual } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { CONTENT_TYPE } from '../observability/exposition';
import { metricsText } from '../observability/metrics';

/**
 * `GET /metrics` for Prometheus: platform-wide, every series labelled by tenant, so it answers to
 * the scrape token (`Authorization: Bearer <METRICS_TOKEN>`), not to a tenant's API key. Served as
 * text, outside the OpenAPI document. `Cache-Control: no-cache` skips the few-second cache.
 */
export const metricsRoutes = new Hono<AppEnv>().get('/metrics', async (c) => {
  const token = (c.env as { METRICS_TOKEN?: string }).METRICS_TOKEN;
  if (!token) throw new ApiError('unavailable', 'Metrics are off: set the METRICS_TOKEN secret to enable GET /metrics');
  const [scheme, given] = (c.req.header('authorization') ?? '').trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() !== 'bearer' || !given || !timingSafeEqual(given, token)) {
    c.header('www-authenticate', 'Bearer realm="metrics"');
    throw new ApiError('unauthorized', 'Send the scrape token: Authorization: Bearer <METRICS_TOKEN>');
  }
  const fresh = /no-cache/i.test(c.req.header('cache-control') ?? '');
  const { text } = await metricsText(c.env.DB, fresh);
  return c.body(text, 200, { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' });
});
