import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cappedRate, DEFAULT_CEILINGS, platformCeilings, withCeilings } from './ceilings';
import { policySchema } from './schema';

const policy = (perTenant: Record<string, number>) =>
  policySchema.parse(parse(`apiVersion: agentrunbook/v1\nkind: Policy\nmetadata: { name: p }\nspec:\n  roles: { sre: { tools: ["*"] } }\n  budgets: { per_tenant: ${JSON.stringify(perTenant)} }\n`));

describe('platform ceilings', () => {
  it('come from the environment; missing or malformed values keep the defaults', () => {
    expect(platformCeilings({})).toEqual(DEFAULT_CEILINGS);
    expect(platformCeilings({ PLATFORM_MAX_RUNS_PER_HOUR: '50', PLATFORM_MAX_COST_USD_PER_DAY: 'lots', PLATFORM_MAX_BURST: '-1' })).toEqual({ ...DEFAULT_CEILINGS, runs_per_hour: 50 });
  });

  it('a policy budget above a ceiling, or left out, gets the ceiling; one below it stays', () => {
    const c = { ...DEFAULT_CEILINGS, runs_per_hour: 100, cost_usd_per_day: 20 };
    expect(withCeilings(policy({ max_runs_per_hour: 100000 }), c).spec.budgets.per_tenant).toEqual({ max_runs_per_hour: 100, max_cost_usd_per_day: 20 });
    expect(withCeilings(policy({ max_runs_per_hour: 5, max_cost_usd_per_day: 1 }), c).spec.budgets.per_tenant).toEqual({ max_runs_per_hour: 5, max_cost_usd_per_day: 1 });
  });

  it('a stored rate limit is capped, an unset burst included', () => {
    expect(cappedRate({ requests_per_minute: 100_000 }, DEFAULT_CEILINGS)).toEqual({ requests_per_minute: 6000, burst: 1000 });
    expect(cappedRate({ requests_per_minute: 60, burst: 3 }, DEFAULT_CEILINGS)).toEqual({ requests_per_minute: 60, burst: 3 });
  });
});
