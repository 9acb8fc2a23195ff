import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { budgetReason, decide, limitName, type DecisionRequest, type Usage } from './decide';
import { factsFor, unknownTarget } from './facts';
import { policySchema, type Policy } from './schema';
import { likePattern, utcDayStart } from './usage';

const policy: Policy = policySchema.parse(
  parse(`
apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: budgets }
spec:
  roles:
    sre: { run: true, approve: true, tools: ["*"] }
  budgets:
    per_run: { max_cost_usd: 2.00, max_tokens: 1000, max_steps: 3, max_duration: 1h }
    per_tenant: { max_cost_usd_per_day: 50, max_runs_per_hour: 10 }
  limits:
    - tools: ["k8s.drain_node", "k8s.cordon_node"]
      max: 2
      per: 1h
    - name: any-rollback
      tools: ["k8s.rollback_*", "github.revert_*"]
      max: 1
      per: 24h
`),
);

const within = { steps_started: 1, elapsed_ms: 60_000, tokens: 10, cost_usd: 0.1 };
const req = (tool: string, usage?: Usage): DecisionRequest => ({
  tool: { id: tool, mutating: true, risk: 'high' },
  args: {},
  actor: { type: 'api_key', id: 'k', role: 'sre' },
  context: {},
  facts: factsFor(unknownTarget(tool, {}), {}, Date.UTC(2026, 0, 5, 10)),
  usage,
});

describe('budgets', () => {
  it.each([
    ['nothing used up', { run: within }, undefined],
    ['max_steps reached', { run: { ...within, steps_started: 3 } }, ['per_run.max_steps', 'max_steps 3 reached']],
    ['one step under max_steps', { run: { ...within, steps_started: 2 } }, undefined],
    ['max_duration exceeded', { run: { ...within, elapsed_ms: 3_600_001 } }, ['per_run.max_duration', 'max_duration 1h exceeded']],
    ['exactly max_duration', { run: { ...within, elapsed_ms: 3_600_000 } }, undefined],
    ['max_tokens exceeded', { run: { ...within, tokens: 1001 } }, ['per_run.max_tokens', 'max_tokens 1000 exceeded']],
    ['max_cost_usd exceeded', { run: { ...within, cost_usd: 2.01 } }, ['per_run.max_cost_usd', 'max_cost_usd 2 exceeded']],
    ['tenant cost per day reached', { run: within, tenant: { cost_usd_today: 50 } }, ['per_tenant.max_cost_usd_per_day', 'max_cost_usd_per_day 50 reached (50 USD spent today, UTC)']],
    ['tenant cost per day below', { run: within, tenant: { cost_usd_today: 49.99 } }, undefined],
  ] as const)('%s', (_name, usage, expected) => {
    const reason = budgetReason(policy, usage as Usage);
    if (!expected) expect(reason).toBeUndefined();
    else expect(reason).toEqual({ kind: 'budget', name: expected[0], effect: 'deny', message: expected[1] });
  });

  it('no usage given: budgets are not checked (the caller has no counters)', () => {
    expect(decide(policy, req('k8s.drain_node')).effect).toBe('allow');
  });

  it('a used-up budget makes the decision deny, naming the budget, whatever the rules say', () => {
    const d = decide(policy, req('k8s.get_node', { run: { ...within, tokens: 5000 } }));
    expect(d.effect).toBe('deny');
    expect(d.reasons).toContainEqual({ kind: 'budget', name: 'per_run.max_tokens', effect: 'deny', message: 'max_tokens 1000 exceeded' });
  });
});

describe('blast-radius limits in decide()', () => {
  it.each([
    ['drain, window has room', 'k8s.drain_node', [1, undefined], 'allow', undefined],
    ['drain, window full', 'k8s.drain_node', [2, undefined], 'deny', 'k8s.drain_node, k8s.cordon_node max 2 per 1h'],
    ['cordon shares the window', 'k8s.cordon_node', [3, undefined], 'deny', 'k8s.drain_node, k8s.cordon_node max 2 per 1h'],
    ['wildcard limit, named', 'k8s.rollback_deployment', [undefined, 1], 'deny', 'any-rollback'],
    ['wildcard limit, room', 'github.revert_pr', [undefined, 0], 'allow', undefined],
    ['uncovered tool ignores counts', 'k8s.scale_deployment', [5, 5], 'allow', undefined],
  ] as const)('%s', (_name, tool, counts, effect, limit) => {
    const d = decide(policy, req(tool, { limits: [...counts] }));
    expect(d.effect).toBe(effect);
    const reason = d.reasons.find((r) => r.kind === 'limit');
    if (limit) expect(reason).toMatchObject({ name: limit, effect: 'deny' });
    else expect(reason).toBeUndefined();
  });

  it('limit names default to the tool patterns and the window', () => {
    expect(limitName(policy.spec.limits[0]!)).toBe('k8s.drain_node, k8s.cordon_node max 2 per 1h');
    expect(limitName(policy.spec.limits[1]!)).toBe('any-rollback');
  });
});

describe('counter helpers', () => {
  it('tool patterns become LIKE patterns with _ and % escaped', () => {
    expect(likePattern('k8s.drain_node')).toBe('k8s.drain\\_node');
    expect(likePattern('k8s.*')).toBe('k8s.%');
    expect(likePattern('k8s.rollback_*')).toBe('k8s.rollback\\_%');
  });

  it('the day starts at midnight UTC', () => {
    expect(utcDayStart(Date.parse('2026-11-24T23:59:59.999Z'))).toBe('2026-11-24T00:00:00.000Z');
    expect(utcDayStart(Date.parse('2026-11-25T00:00:00.000Z'))).toBe('2026-11-25T00:00:00.000Z');
  });
});
