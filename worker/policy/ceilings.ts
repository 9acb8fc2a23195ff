/**
 * Platform ceilings: the limits on what tenants share (the deployment's model provider account,
 * its Durable Objects and D1, the rate limiter). A tenant admin sets budgets and rate limits for
 * the tenant, but only below these; a policy that leaves a budget out gets the ceiling.
 */
import type { Env } from '../env';
import type { Policy } from './schema';

export interface PlatformCeilings {
  /** Runs a tenant may start per hour (execute and rehearsals are counted apart, each against this). */
  runs_per_hour: number;
  /** Model spend per tenant and UTC day, in USD. */
  cost_usd_per_day: number;
  /** Requests per minute per subject, and the bucket size. */
  requests_per_minute: number;
  burst: number;
}

export const DEFAULT_CEILINGS: PlatformCeilings = { runs_per_hour: 600, cost_usd_per_day: 500, requests_per_minute: 6000, burst: 1000 };

type CeilingEnv = Pick<Env, 'PLATFORM_MAX_RUNS_PER_HOUR' | 'PLATFORM_MAX_COST_USD_PER_DAY' | 'PLATFORM_MAX_REQUESTS_PER_MINUTE' | 'PLATFORM_MAX_BURST'>;

/** The deployment's ceilings; a missing or malformed variable keeps its default. */
export function platformCeilings(env: CeilingEnv): PlatformCeilings {
  const positive = (raw: string | undefined, fallback: number) => {
    const n = Number(raw);
    return raw !== undefined && raw !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    runs_per_hour: Math.floor(positive(env.PLATFORM_MAX_RUNS_PER_HOUR, DEFAULT_CEILINGS.runs_per_hour)),
    cost_usd_per_day: positive(env.PLATFORM_MAX_COST_USD_PER_DAY, DEFAULT_CEILINGS.cost_usd_per_day),
    requests_per_minute: Math.floor(positive(env.PLATFORM_MAX_REQUESTS_PER_MINUTE, DEFAULT_CEILINGS.requests_per_minute)),
    burst: Math.floor(positive(env.PLATFORM_MAX_BURST, DEFAULT_CEILINGS.burst)),
  };
}

/** The policy a run is governed by: its tenant-wide budgets held under the ceilings (absent → the ceiling). */
export function withCeilings(policy: Policy, ceilings: PlatformCeilings): Policy {
  const t = policy.spec.budgets.per_tenant;
  const per_tenant = {
    ...t,
    max_runs_per_hour: Math.min(t.max_runs_per_hour ?? Infinity, ceilings.runs_per_hour),
    max_cost_usd_per_day: Math.min(t.max_cost_usd_per_day ?? Infinity, ceilings.cost_usd_per_day),
  };
  return { ...policy, spec: { ...policy.spec, budgets: { ...policy.spec.budgets, per_tenant } } };
}

/** A tenant's rate limit held under the ceilings. */
export function cappedRate<T extends { requests_per_minute: number; burst?: number }>(rate: T, ceilings: PlatformCeilings): T {
  return {
    ...rate,
    requests_per_minute: Math.min(rate.requests_per_minute, ceilings.requests_per_minute),
    // An unset burst means "as many as per minute": capped like a set one.
    burst: Math.min(rate.burst ?? rate.requests_per_minute, ceilings.burst),
  };
}
