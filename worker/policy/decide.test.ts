import { describe, expect, it } from 'vitest';
import { getTool } from '../tools/catalog';
import { decide, type Decision, type DecisionRequest, type Effect } from './decide';
import { factsFor, unknownTarget } from './facts';
import { policySchema, roleOf, type Policy } from './schema';

type Rule = Policy['spec']['rules'][number];
type RuleInput = Omit<Rule, 'approval'> & { approval?: Partial<NonNullable<Rule['approval']>> };

/** A policy through the real schema (defaults applied), with an all-tools `sre` role unless roles are given. */
function policy(rules: RuleInput[] = [], roles: Record<string, unknown> = { sre: { run: true, approve: true, tools: ['*'] }, admin: { approve: true, tools: ['*'] } }): Policy {
  return policySchema.parse({ apiVersion: 'agentrunbook/v1', kind: 'Policy', metadata: { name: 'test' }, spec: { roles, rules } });
}

function request(toolId: string, over: Partial<Omit<DecisionRequest, 'tool'>> = {}): DecisionRequest {
  const tool = getTool(toolId);
  if (!tool) throw new Error(`unknown tool ${toolId}`);
  return {
    tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
    args: {},
    actor: { type: 'api_key', id: 'key_1', role: 'sre' },
    context: {},
    facts: factsFor(unknownTarget(toolId, {}), {}, Date.UTC(2026, 0, 5, 10)),
    run: { id: 'run_1', runbook: 'node-not-ready', mode: 'execute' },
    ...over,
  };
}

/** `kind:name` of the reasons that carry the decision's effect. */
const because = (d: Decision) => d.reasons.filter((r) => r.effect === d.effect).map((r) => `${r.kind}:${r.name}`);

describe('decide: role tool patterns', () => {
  const cases: [string, string[], string, Effect][] = [
    ['"*" matches every tool', ['*'], 'k8s.drain_node', 'allow'],
    ['"*" matches core tools too', ['*'], 'core.wait', 'allow'],
    ['"ns.*" matches its namespace', ['k8s.*'], 'k8s.rollback_deployment', 'allow'],
    ['"ns.*" does not match another namespace', ['k8s.*'], 'github.create_issue', 'deny'],
    ['"ns.get_*" matches reads', ['k8s.get_*'], 'k8s.get_pod_logs', 'allow'],
    ['"ns.get_*" does not match writes', ['k8s.get_*'], 'k8s.drain_node', 'deny'],
    ['"ns.get_*" does not match reads of another namespace', ['k8s.get_*'], 'github.get_pull_request', 'deny'],
    ['an exact id matches itself', ['jira.create_issue'], 'jira.create_issue', 'allow'],
    ['an exact id matches nothing else', ['jira.create_issue'], 'jira.get_issue', 'deny'],
    ['a prefix without * is not a pattern', ['k8s.get'], 'k8s.get_node', 'deny'],
    ['any of several patterns', ['github.*', 'k8s.get_*'], 'k8s.get_node', 'allow'],
    ['no tools at all', [], 'core.wait', 'deny'],
  ];
  it.each(cases)('%s', (_, tools, tool, effect) => {
    const d = decide(policy([], { oncall: { tools } }), request(tool, { actor: { type: 'api_key', id: 'key_1', role: 'oncall' } }));
    expect(d.effect).toBe(effect);
    expect(because(d)).toEqual(['role:oncall']);
  });

  it('names the pattern that allowed the call', () => {
    const d = decide(policy([], { sre: { tools: ['github.*', 'k8s.get_*'] } }), request('k8s.get_node'));
    expect(d.reasons).toEqual([{ kind: 'role', name: 'sre', effect: 'allow', message: 'Role "sre" may use k8s.get_node (pattern "k8s.get_*")' }]);
  });

  // The schema does not accept "*.get_*" yet (see the report); decide() itself handles it.
  it.each([
    ['github.get_pull_request', 'allow'],
    ['pagerduty.list_oncalls', 'allow'],
    ['k8s.get_node', 'allow'],
    ['k8s.drain_node', 'deny'],
    ['jira.create_issue', 'deny'],
  ] as const)('"*.get_*" and "*.list_*" (any namespace): %s → %s', (tool, effect) => {
    const p = policy();
    p.spec.roles = { oncall: { run: true, approve: false, manage: false, tools: ['*.get_*', '*.list_*'] } };
    expect(decide(p, request(tool, { actor: { type: 'api_key', id: 'key_1', role: 'oncall' } })).effect).toBe(effect);
  });

  it('a role the policy does not define is denied every tool, naming the role', () => {
    const d = decide(policy(), request('core.wait', { actor: { type: 'api_key', id: 'key_1', role: 'operator' } }));
    expect(d).toEqual({ effect: 'deny', reasons: [{ kind: 'role', name: 'operator', effect: 'deny', message: 'Role "operator" is not defined by policy "test"' }] });
  });

  // Roles are looked up as own properties: "constructor" must not find Object.prototype.constructor.
  it('a role name that is an Object.prototype member is not a role', () => {
    const d = decide(policy(), request('core.wait', { actor: { type: 'api_key', id: 'key_1', role: 'constructor' } }));
    expect(d.effect).toBe('deny');
  });

  it('roleOf finds only the roles the policy defines', () => {
    const p = policy();
    expect(roleOf(p, 'sre')?.run).toBe(true);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'operator']) expect(roleOf(p, name)).toBeUndefined();
  });
});

describe('decide: rule effects and how they combine', () => {
  const deny: RuleInput = { name: 'no-drains', when: 'tool.id == "k8s.drain_node"', effect: 'deny', reason: 'Drains are off' };
  const approve: RuleInput = { name: 'writes-approved', when: 'tool.mutating', effect: 'require_approval', approval: { roles: ['sre'] } };
  const allow: RuleInput = { name: 'reads-fine', when: '!tool.mutating', effect: 'allow' };

  const cases: [string, RuleInput[], string, Effect, string[]][] = [
    ['no rule matches: the role decides', [deny, approve], 'k8s.get_node', 'allow', ['role:sre']],
    ['an allow rule adds its reason', [allow], 'k8s.get_node', 'allow', ['role:sre', 'rule:reads-fine']],
    ['a deny rule denies', [deny], 'k8s.drain_node', 'deny', ['rule:no-drains']],
    ['require_approval asks for approval', [approve], 'k8s.cordon_node', 'require_approval', ['rule:writes-approved']],
    ['deny beats require_approval', [approve, deny], 'k8s.drain_node', 'deny', ['rule:no-drains']],
    ['deny beats require_approval in any order', [deny, approve], 'k8s.drain_node', 'deny', ['rule:no-drains']],
    ['require_approval beats allow', [allow, approve, { ...allow, name: 'always', when: 'true' }], 'k8s.cordon_node', 'require_approval', ['rule:writes-approved']],
    ['an allow rule cannot loosen a deny', [deny, { ...allow, name: 'drains-ok', when: 'true' }], 'k8s.drain_node', 'deny', ['rule:no-drains']],
    ['every matching rule is named', [deny, { ...deny, name: 'no-high-risk', when: 'tool.risk == "high"' }], 'k8s.drain_node', 'deny', ['rule:no-drains', 'rule:no-high-risk']],
  ];
  it.each(cases)('%s', (_, rules, tool, effect, named) => {
    const d = decide(policy(rules), request(tool));
    expect(d.effect).toBe(effect);
    expect(because(d)).toEqual(named);
    if (effect !== 'require_approval') expect(d.approval).toBeUndefined();
  });

  it('a rule denial outranks a role allow, and a role denial outranks a rule approval', () => {
    expect(because(decide(policy([deny]), request('k8s.drain_node')))).toEqual(['rule:no-drains']);
    const p = policy([approve], { operator: { tools: ['k8s.get_*'] }, sre: { approve: true, tools: ['*'] } });
    const d = decide(p, request('k8s.cordon_node', { actor: { type: 'api_key', id: 'key_1', role: 'operator' } }));
    expect(d.effect).toBe('deny');
    expect(because(d)).toEqual(['role:operator']);
  });

  it('the rule reason is the message; without one the message names the rule', () => {
    const d = decide(policy([deny, { name: 'quiet', when: 'true', effect: 'deny' }]), request('k8s.drain_node'));
    expect(d.reasons.filter((r) => r.kind === 'rule').map((r) => r.message)).toEqual(['Drains are off', 'Rule "quiet" matched']);
  });

  it('a runbook step that requires approval asks for the default approvers, someone other than the requester', () => {
    const d = decide(policy(), request('k8s.drain_node', { stepRequiresApproval: true }));
    expect(d).toMatchObject({ effect: 'require_approval', approval: { roles: ['sre', 'admin'], count: 1, distinct_from_requester: true } });
    expect(because(d)).toEqual(['runbook:approval: required']);
  });

  it('the same request always gets the same decision (no hidden state)', () => {
    const p = policy([deny, approve, allow]);
    const req = request('k8s.cordon_node', { context: { environment: 'prod' } });
    expect(decide(p, req)).toEqual(decide(p, structuredClone(req)));
  });
});

describe('decide: approval requirements merge into the strictest', () => {
  const rule = (name: string, approval: RuleInput['approval']): RuleInput => ({ name, when: 'tool.mutating', effect: 'require_approval', approval });

  it('roles: only roles both rules accept', () => {
    const d = decide(policy([rule('a', { roles: ['sre', 'admin'] }), rule('b', { roles: ['admin'] })]), request('k8s.cordon_node'));
    expect(d.approval?.roles).toEqual(['admin']);
  });

  it('count: the largest quorum', () => {
    const d = decide(policy([rule('a', { count: 2 }), rule('b', { count: 3 }), rule('c', { count: 1 })]), request('k8s.cordon_node'));
    expect(d.approval?.count).toBe(3);
  });

  it('distinct_from_requester: required if any rule requires it; off only where every rule turns it off', () => {
    const off = { distinct_from_requester: false };
    expect(decide(policy([rule('a', { distinct_from_requester: true }), rule('b', off)]), request('k8s.cordon_node')).approval?.distinct_from_requester).toBe(true);
    expect(decide(policy([rule('a', off), rule('b', { distinct_from_requester: true })]), request('k8s.cordon_node')).approval?.distinct_from_requester).toBe(true);
    expect(decide(policy([rule('a', off), rule('b', off)]), request('k8s.cordon_node')).approval?.distinct_from_requester).toBe(false);
    // Left out, it is on.
    expect(decide(policy([rule('a', {}), rule('b', {})]), request('k8s.cordon_node')).approval?.distinct_from_requester).toBe(true);
  });

  it('expiry: kept when only one rule sets it', () => {
    expect(decide(policy([rule('a', {}), rule('b', { expires_in: '10m' })]), request('k8s.cordon_node')).approval?.expires_in).toBe('10m');
    expect(decide(policy([rule('a', { expires_in: '10m' }), rule('b', {})]), request('k8s.cordon_node')).approval?.expires_in).toBe('10m');
  });

  it('expiry: the earliest of the rules that set one', () => {
    const d = decide(policy([rule('a', { expires_in: '1h' }), rule('b', { expires_in: '5m' })]), request('k8s.cordon_node'));
    expect(d.approval?.expires_in).toBe('5m');
  });

  it('two approval rules with no approver role in common deny, naming the rule (neither requirement is dropped)', () => {
    const d = decide(policy([rule('sre-only', { roles: ['sre'] }), rule('admin-only', { roles: ['admin'] })]), request('k8s.cordon_node'));
    expect(d.effect).toBe('deny');
    expect(d.reasons).toContainEqual(expect.objectContaining({ kind: 'rule', name: 'admin-only', effect: 'deny', message: expect.stringContaining('no approver can satisfy both') }));
  });

  it('a rule stricter than the runbook\'s own approval replaces the default approvers', () => {
    const d = decide(policy([rule('two-admins', { roles: ['admin'], count: 2, distinct_from_requester: true, expires_in: '15m' })]), request('k8s.drain_node', { stepRequiresApproval: true }));
    expect(d.approval).toEqual({ roles: ['admin'], count: 2, distinct_from_requester: true, expires_in: '15m' });
    expect(because(d)).toEqual(['runbook:approval: required', 'rule:two-admins']);
  });

  it('a require_approval rule without an approval block asks the default approvers', () => {
    const d = decide(policy([{ name: 'plain', when: 'true', effect: 'require_approval' }]), request('core.wait'));
    expect(d.approval).toEqual({ roles: ['sre', 'admin'], count: 1, distinct_from_requester: true });
  });
});

describe('decide: CEL conditions over every variable', () => {
  const cases: [string, string, Partial<Omit<DecisionRequest, 'tool'>> & { tool?: string }, boolean][] = [
    ['context value', 'has(context.environment) && context.environment == "prod"', { context: { environment: 'prod' } }, true],
    ['context other value', 'has(context.environment) && context.environment == "prod"', { context: { environment: 'staging' } }, false],
    ['context key absent, guarded', 'has(context.environment) && context.environment == "prod"', { context: {} }, false],
    ['context nested map', 'has(context.incident) && context.incident.severity in ["sev1", "sev2"]', { context: { incident: { severity: 'sev2' } } }, true],
    ['context bool', 'has(context.change_freeze) && context.change_freeze', { context: { change_freeze: true } }, true],
    ['tool.id', 'tool.id.startsWith("k8s.")', { tool: 'k8s.drain_node' }, true],
    ['tool.mutating', 'tool.mutating', { tool: 'k8s.get_node' }, false],
    ['tool.risk', 'tool.risk == "high"', { tool: 'k8s.rollback_deployment' }, true],
    ['args string', 'has(args.namespace) && args.namespace == "kube-system"', { tool: 'k8s.restart_deployment', args: { cluster: 'c', namespace: 'kube-system', name: 'dns' } }, true],
    ['args number', 'args.replicas > 10', { tool: 'k8s.scale_deployment', args: { replicas: 12 } }, true],
    ['args number under the bound', 'args.replicas > 10', { tool: 'k8s.scale_deployment', args: { replicas: 4 } }, false],
    ['args list', 'has(args.labels) && "security" in args.labels', { tool: 'github.create_issue', args: { labels: ['bug', 'security'] } }, true],
    ['actor.type', 'actor.type == "user"', { actor: { type: 'user', id: 'u_1', role: 'sre' } }, true],
    ['actor.role', 'actor.role == "sre"', {}, true],
    ['actor.id', 'actor.id.startsWith("key_")', {}, true],
    ['run.mode', 'run.mode == "dry_run"', { run: { id: 'run_1', runbook: 'x', mode: 'dry_run' } }, true],
    ['run.runbook', 'run.runbook == "node-not-ready"', {}, true],
    ['no run (POST /tools/plan), guarded', 'has(run.mode) && run.mode == "execute"', { run: undefined }, false],
  ];
  it.each(cases)('%s: %s', (_, when, over, matches) => {
    const { tool = 'k8s.drain_node', ...rest } = over;
    const d = decide(policy([{ name: 'probe', when, effect: 'deny' }]), request(tool, rest));
    expect(d.effect).toBe(matches ? 'deny' : 'allow');
    expect(d.reasons.some((r) => r.name === 'probe')).toBe(matches);
  });
});

describe('decide: a rule that cannot be evaluated fails closed', () => {
  const cases: [string, string, Partial<DecisionRequest>][] = [
    ['a context key that is absent', 'context.environment == "prod"', { context: {} }],
    ['a condition that is not a bool', 'has(context.environment) && context.environment', { context: { environment: 'prod' } }],
    ['a type mismatch', 'args.replicas > "ten"', { args: { replicas: 3 } }],
    ['a variable decide() does not provide', 'inputs.node == "n1"', {}],
    ['run fields outside a run', 'run.mode == "execute"', { run: undefined }],
  ];
  it.each(cases)('%s → deny naming the rule', (_, when, over) => {
    const d = decide(policy([{ name: 'broken', when, effect: 'allow' }]), request('core.wait', over));
    expect(d.effect).toBe('deny');
    const reason = d.reasons.find((r) => r.name === 'broken');
    expect(reason).toMatchObject({ kind: 'rule', effect: 'deny' });
    expect(reason?.message).toMatch(/^Rule could not be evaluated: /);
  });

  it('a broken rule does not stop the rules after it, and its denial outranks their approval', () => {
    const d = decide(
      policy([
        { name: 'broken', when: 'context.missing', effect: 'require_approval' },
        { name: 'writes', when: 'tool.mutating', effect: 'require_approval' },
      ]),
      request('k8s.cordon_node'),
    );
    expect(d.effect).toBe('deny');
    expect(d.reasons.map((r) => `${r.name}:${r.effect}`)).toEqual(['sre:allow', 'broken:deny', 'writes:require_approval']);
    expect(d.approval).toBeUndefined();
  });
});
