import type { Context, MiddlewareHandler } from 'hono';
import { makeDb } from '../db/client';
import type { AppEnv, Env } from '../env';
import { ApiError } from '../lib/errors';
import { cappedRate, platformCeilings } from '../policy/ceilings';
import { getTenantSettings, type RateLimitSettings } from '../store/settings';

/** Applies when neither the tenant nor the deployment says otherwise. */
export const DEFAULT_RATE: RateLimitSettings = { requests_per_minute: 600, burst: 120 };
const SETTINGS_TTL_MS = 30_000;

// Tenant settings change rarely; each isolate re-reads them at most every 30 s.
const settingsCache = new Map<string, { at: number; rate: RateLimitSettings | undefined }>();

async function tenantRate(env: Env, tenantId: string): Promise<RateLimitSettings | undefined> {
  const hit = settingsCache.get(tenantId);
  if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.rate;
  const rate = (await getTenantSettings(makeDb(env.DB), tenantId)).rate_limit;
  settingsCache.set(tenantId, { at: Date.now(), rate });
  if (settingsCache.size > 10_000) settingsCache.delete(settingsCache.keys().next().value!);
  return rate;
}

function deploymentRate(env: Env): RateLimitSettings {
  const perMinute = Number(env.RATE_LIMIT_PER_MINUTE);
  const burst = Number(env.RATE_LIMIT_BURST);
  return {
    requests_per_minute: Number.isInteger(perMinute) && perMinute > 0 ? perMinute : DEFAULT_RATE.requests_per_minute,
    burst: Number.isInteger(burst) && burst > 0 ? burst : DEFAULT_RATE.burst,
  };
}

/** Takes one request from the subject's bucket; 429 with Retry-After when it is empty. */
export async function limitSubject(c: Context<AppEnv>, subject: string, rate: RateLimitSettings): Promise<void> {
  const burst = rate.burst ?? rate.requests_per_minute;
  const limiter = c.env.LIMITER.get(c.env.LIMITER.idFromName(subject));
  const d = await limiter.take(rate.requests_per_minute, burst);
  c.header('RateLimit-Limit', String(d.limit));
  c.header('RateLimit-Remaining', String(d.remaining));
  c.header('RateLimit-Reset', String(d.reset_s));
  if (!d.ok) {
    c.header('Retry-After', String(d.retry_after_s));
    throw new ApiError('rate_limited', `Too many requests: ${rate.requests_per_minute} per minute (bursts of ${burst}) for this ${subject.startsWith('ip:') ? 'address' : 'caller'}; retry after ${d.retry_after_s} s`);
  }
}

/** Per-subject rate limit for authenticated calls: the tenant's setting, else the deployment's. */
export const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const p = c.get('principal');
  // A tenant's own setting stays under the platform's ceiling, whenever it was stored.
  const own = await tenantRate(c.env, p.tenantId);
  const rate = own ? cappedRate(own, platformCeilings(c.env)) : deploymentRate(c.env);
  await limitSubject(c, `${p.tenantId}:${p.actor.type}:${p.actor.id}`, rate);
  await next();
};

/** Unauthenticated entry points (sign-in, bootstrap) are limited per client address, to slow guessing. */
// Cloudflare always sets CF-Connecting-IP on requests from the Internet (clients cannot remove it);
// a request without it came from inside (a test harness, a service binding) and is not limited here.
export const rateLimitByAddress: MiddlewareHandler<AppEnv> = async (c, next) => {
  const ip = c.req.header('cf-connecting-ip');
  if (ip && c.req.method !== 'GET' && c.req.method !== 'HEAD') await limitSubject(c, `ip:${ip}`, { requests_per_minute: 30, burst: 10 });
  await next();
};
