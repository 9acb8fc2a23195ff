import { describe, expect, it } from 'vitest';
import { checkPolicyYaml, checkWhen } from './validate';

const ROLES = `  roles:
    viewer:   { }
    operator: { run: true, tools: ["github.*", "k8s.get_*"] }
    sre:      { run: true, approve: true, tools: ["*"] }
    admin:    { run: true, approve: true, manage: true, tools: ["*"] }
`;

/** A policy document: the four caller roles, then whatever `spec` lines follow. */
const doc = (spec = '') => `apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: probe }
spec:
${ROLES}${spec}`;

function errorsOf(yaml: string) {
  const r = checkPolicyYaml(yaml);
  if (r.ok) throw new Error('expected the policy to be rejected');
  return r.errors;
}

function warningsOf(yaml: string) {
  const r = checkPolicyYaml(yaml);
  if (!r.ok) throw new Error(`expected the policy to pass: ${JSON.stringify(r.errors)}`);
  return r.warnings;
}

describe('checkPolicyYaml: errors with lines', () => {
  it('a clean policy passes with no warnings', () => {
    const r = checkPolicyYaml(
      doc(`  rules:
    - name: prod-writes
      when: 'has(target.labels.environment) && target.labels.environment == "prod" && tool.mutating'
      effect: require_approval
      approval: { roles: [sre], count: 2, distinct_from_requester: true, expires_in: 15m }
`),
    );
    expect(r).toMatchObject({ ok: true, warnings: [] });
  });

  it('schema errors name the field and line', () => {
    expect(
      errorsOf(
        doc(`  rules:
    - name: Bad_Name
      when: 'true'
      effect: block
`),
      ),
    ).toEqual([
      { path: 'spec.rules[0].name', line: 11, message: 'must be lowercase letters, digits and dashes' },
      { path: 'spec.rules[0].effect', line: 13, message: expect.stringContaining('allow') },
    ]);
  });

  it('a `when` that does not compile is an error at its line', () => {
    const errors = errorsOf(
      doc(`  rules:
    - name: ok
      when: 'tool.mutating'
      effect: deny
    - name: broken
      when: 'tool.mutating &&'
      effect: deny
`),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: 'spec.rules[1].when', line: 15 });
    expect(errors[0]!.message).toMatch(/^invalid expression: syntax error/);
  });

  it.each([
    ['an unknown function', 'context.env.matchesGlob("prod*")', /unknown function "matchesGlob"/],
    ['a variable rules do not get', 'inputs.node == "n1"', /unknown variable "inputs".*rules can use context, tool, args, actor, run/],
    ['a misspelt variable', 'tol.mutating', /unknown variable "tol"; did you mean "tool"\?/],
    ['a tool field that does not exist', 'tool.rsik == "high"', /tool has no field "rsik"; did you mean "risk"\?/],
    ['an actor field that does not exist', 'actor.email == "x"', /actor has no field "email"/],
    ['a run field that does not exist', 'has(run.status) && run.status == "x"', /run has no field "status"/],
  ])('%s is an error', (_, when, message) => {
    const errors = errorsOf(doc(`  rules:\n    - name: r\n      when: '${when}'\n      effect: deny\n`));
    expect(errors[0]).toMatchObject({ path: 'spec.rules[0].when', line: 12 });
    expect(errors.map((e) => e.message).join('\n')).toMatch(message);
  });

  it('approval roles must be roles of the policy, with a suggestion', () => {
    expect(
      errorsOf(
        doc(`  rules:
    - name: r
      when: 'tool.mutating'
      effect: require_approval
      approval:
        roles: [sre, admn]
`),
      ),
    ).toEqual([{ path: 'spec.rules[0].approval.roles[1]', line: 15, message: 'approval role "admn" is not a role of this policy; did you mean "admin"?' }]);
  });

  it('approval roles must be able to approve', () => {
    expect(errorsOf(doc(`  rules:\n    - name: r\n      when: 'tool.mutating'\n      effect: require_approval\n      approval: { roles: [operator] }\n`))).toEqual([
      { path: 'spec.rules[0].approval.roles[0]', line: 14, message: 'role "operator" cannot approve: set approve: true on it, or name another role' },
    ]);
  });

  it('require_approval without approval names the default approvers, which must exist', () => {
    const yaml = `apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: probe }
spec:
  roles:
    lead: { run: true, approve: true, tools: ["*"] }
  rules:
    - name: r
      when: 'tool.mutating'
      effect: require_approval
`;
    const errors = errorsOf(yaml);
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['spec.rules[0].effect', 10],
      ['spec.rules[0].effect', 10],
    ]);
    expect(errors[0]!.message).toContain('approval role "sre" is not a role of this policy (the default approvers of require_approval');
  });

  it('duplicate rule names are an error at the second one', () => {
    expect(errorsOf(doc(`  rules:\n    - name: r\n      when: 'true'\n      effect: deny\n    - name: r\n      when: 'false'\n      effect: deny\n`))).toEqual([
      { path: 'spec.rules[1].name', line: 14, message: 'duplicate rule name "r" (first used by spec.rules[0]); decisions name rules, so names must be unique' },
    ]);
  });

  it('reports every problem at once, in line order', () => {
    const errors = errorsOf(
      doc(`  rules:
    - name: a
      when: 'bogus.x'
      effect: require_approval
      approval: { roles: [nobody] }
    - name: b
      when: '(('
      effect: deny
`),
    );
    expect(errors.map((e) => e.line)).toEqual([12, 14, 16]);
  });
});

describe('checkPolicyYaml: warnings', () => {
  it('tool patterns that match no catalog tool, in roles and limits', () => {
    const warnings = warningsOf(
      doc(`  limits:
    - tools: ["k8s.drain_nodes", "aws.*"]
      max: 1
      per: 1h
`).replace('"github.*", "k8s.get_*"', '"github.*", "k8s.list_*"'),
    );
    expect(warnings).toEqual([
      { path: 'spec.roles.operator.tools[1]', line: 7, message: 'tool pattern "k8s.list_*" matches no tool in the catalog' },
      { path: 'spec.limits[0].tools[0]', line: 11, message: 'tool pattern "k8s.drain_nodes" matches no tool in the catalog; did you mean "k8s.drain_node"?' },
      { path: 'spec.limits[0].tools[1]', line: 11, message: 'tool pattern "aws.*" matches no tool in the catalog' },
    ]);
  });

  it('a context key read without has(): the rule would deny every call that lacks it', () => {
    const warnings = warningsOf(doc(`  rules:\n    - name: r\n      when: 'tool.mutating && has(target.name) && context.environment == "prod"'\n      effect: deny\n`));
    expect(warnings).toEqual([
      { path: 'spec.rules[0].when', line: 12, message: expect.stringContaining('reads context.environment without has(context.environment)') },
    ]);
  });

  it('a label read without has(): a target without that label would be denied', () => {
    const warnings = warningsOf(doc(`  rules:\n    - name: r\n      when: 'tool.mutating && target.labels.environment == "prod"'\n      effect: require_approval\n`));
    expect(warnings).toEqual([
      { path: 'spec.rules[0].when', line: 12, message: expect.stringContaining('reads target.labels.environment without has(target.labels.environment)') },
    ]);
  });

  it('a tightening rule that reads only context: the caller dodges it by leaving the claim out', () => {
    const rule = (effect: string, when: string) => doc(`  rules:\n    - name: r\n      when: '${when}'\n      effect: ${effect}\n`);
    const claim = 'has(context.environment) && context.environment == "prod" && tool.mutating';
    for (const effect of ['deny', 'require_approval']) {
      expect(warningsOf(rule(effect, claim))).toEqual([{ path: 'spec.rules[0].when', line: 12, message: expect.stringContaining(`this ${effect} rule reads context but no trusted fact`) }]);
    }
    // Grounded in a trusted fact (the claim may still add caution), or not tightening: no warning.
    expect(warningsOf(rule('deny', `${claim} || now.change_freeze`))).toEqual([]);
    expect(warningsOf(rule('require_approval', `${claim} && has(target.labels.team)`))).toEqual([]);
    expect(warningsOf(rule('allow', claim)).map((w) => w.message)).not.toContainEqual(expect.stringContaining('no trusted fact'));
  });

  it('roles no caller can hold, and caller roles the policy leaves out', () => {
    const yaml = `apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: probe }
spec:
  roles:
    sre: { approve: true, tools: ["*"] }
    admin: { approve: true, tools: ["*"] }
    oncall: { tools: ["k8s.get_*"] }
    operator: { tools: ["k8s.get_*"] }
`;
    expect(warningsOf(yaml).map((w) => w.message)).toEqual([
      'role "viewer" is not defined: callers with it are denied every tool',
      'no API key or sign-in can hold role "oncall"; callers have one of viewer, operator, sre, admin',
    ]);
  });

  it('an allow rule (it cannot loosen anything) and an approval on a rule that does not ask for one', () => {
    const warnings = warningsOf(doc(`  rules:\n    - name: r\n      when: 'true'\n      effect: allow\n      approval: { roles: [sre] }\n`));
    expect(warnings.map((w) => [w.path, w.line])).toEqual([
      ['spec.rules[0].effect', 13],
      ['spec.rules[0].approval', 14],
    ]);
  });

  // The policy schema's tool pattern (worker/policy/schema.ts) allows "*" only after the namespace,
  // so "*.get_*" — every read, across namespaces — is rejected although decide() matches it.
  it('"*.get_*" and "*.list_*" are accepted as role patterns', () => {
    expect(checkPolicyYaml(doc().replace('"github.*", "k8s.get_*"', '"*.get_*", "*.list_*"'))).toMatchObject({ ok: true });
  });
});

describe('checkWhen', () => {
  it('accepts every variable decide() binds', () => {
    expect(checkWhen('has(context.x) && tool.mutating && has(args.namespace) && actor.role == "sre" && has(run.mode)')).toEqual([]);
    expect(checkWhen('target.kind == "cluster" && target.registered && target.live && target.name != "" && has(target.labels.environment)')).toEqual([]);
    expect(checkWhen('now.business_hours && !now.change_freeze && now.hour >= 9 && now.weekday == "mon" && tenant.time_zone == "UTC"')).toEqual([]);
  });

  it('fields the trusted facts do not have are errors', () => {
    expect(checkWhen('target.environment == "prod"')).toEqual([{ message: expect.stringContaining('target has no field "environment"') }]);
    expect(checkWhen('now.freeze')).toEqual([{ message: expect.stringContaining('now has no field "freeze"') }]);
  });

  it('a has() guard anywhere in the condition clears the context warning', () => {
    expect(checkWhen('!has(context.environment) || context.environment == "prod"')).toEqual([]);
  });
});
