import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { diffPolicies, unifiedDiff } from './diff';
import { policySchema } from './schema';

const V1 = `apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: team }
spec:
  roles:
    viewer: { }
    operator: { run: true, tools: ["github.*", "k8s.get_*"] }
    sre: { run: true, approve: true, tools: ["*"] }
  budgets:
    per_run: { max_cost_usd: 2.00, max_steps: 40 }
  limits:
    - tools: ["k8s.drain_node", "k8s.cordon_node"]
      max: 2
      per: 1h
  rules:
    - name: prod-writes
      when: 'has(context.environment) && context.environment == "prod" && tool.mutating'
      effect: require_approval
      approval: { roles: [sre], count: 1 }
    - name: freeze
      when: 'has(context.change_freeze) && context.change_freeze'
      effect: deny
`;

const load = (text: string) => policySchema.parse(parse(text));

describe('diffPolicies', () => {
  it('the same policy has no changes, and reordering rules is not a change', () => {
    expect(diffPolicies(load(V1), load(V1))).toEqual([]);
    const reordered = load(V1);
    reordered.spec.rules.reverse();
    expect(diffPolicies(load(V1), reordered)).toEqual([]);
  });

  it('names roles, rules, budgets and limits that were added, removed or changed, with the fields', () => {
    const v2 = V1.replace('    viewer: { }\n', '')
      .replace('"github.*", "k8s.get_*"', '"github.*", "k8s.get_*", "core.*"')
      .replace('sre: { run: true, approve: true, tools: ["*"] }', 'sre: { run: true, approve: true, tools: ["*"] }\n    admin: { run: true, approve: true, manage: true, tools: ["*"] }')
      .replace('max_steps: 40', 'max_steps: 20')
      .replace('      max: 2\n', '      max: 1\n')
      .replace("approval: { roles: [sre], count: 1 }", 'approval: { roles: [sre], count: 2, expires_in: 15m }')
      .replace(/    - name: freeze[\s\S]*$/, "    - name: no-drains\n      when: 'tool.id == \"k8s.drain_node\"'\n      effect: deny\n");
    const changes = diffPolicies(load(V1), load(v2));
    expect(changes).toEqual([
      { kind: 'role', change: 'removed', name: 'viewer', message: 'Role "viewer" removed' },
      {
        kind: 'role',
        change: 'changed',
        name: 'operator',
        fields: [{ field: 'tools', before: ['github.*', 'k8s.get_*'], after: ['github.*', 'k8s.get_*', 'core.*'] }],
        message: 'Role "operator" changed: tools ["github.*","k8s.get_*"] → ["github.*","k8s.get_*","core.*"]',
      },
      { kind: 'role', change: 'added', name: 'admin', message: 'Role "admin" added' },
      { kind: 'rule', change: 'removed', name: 'freeze', message: 'Rule "freeze" removed' },
      {
        kind: 'rule',
        change: 'changed',
        name: 'prod-writes',
        fields: [
          { field: 'approval.count', before: 1, after: 2 },
          { field: 'approval.expires_in', after: '15m' },
        ],
        message: 'Rule "prod-writes" changed: approval.count 1 → 2, approval.expires_in unset → "15m"',
      },
      { kind: 'rule', change: 'added', name: 'no-drains', message: 'Rule "no-drains" added' },
      { kind: 'budgets', change: 'changed', fields: [{ field: 'per_run.max_steps', before: 40, after: 20 }], message: 'Budgets changed: per_run.max_steps 40 → 20' },
      {
        kind: 'limit',
        change: 'changed',
        name: 'k8s.cordon_node, k8s.drain_node',
        fields: [{ field: 'max', before: 2, after: 1 }],
        message: 'Limit "k8s.cordon_node, k8s.drain_node" changed: max 2 → 1',
      },
    ]);
  });

  it('a rule whose condition and effect change lists both fields', () => {
    const v2 = V1.replace("'has(context.change_freeze) && context.change_freeze'\n      effect: deny", "'has(context.change_freeze) && context.change_freeze && tool.risk == \"high\"'\n      effect: require_approval");
    const [change] = diffPolicies(load(V1), load(v2));
    expect(change).toMatchObject({ kind: 'rule', change: 'changed', name: 'freeze' });
    expect(change!.fields!.map((f) => f.field)).toEqual(['when', 'effect']);
  });

  it('a limit named "__proto__" is diffed like any other', () => {
    const named = (max: number) => load(V1.replace('    - tools: ["k8s.drain_node", "k8s.cordon_node"]', `    - name: __proto__\n      tools: ["k8s.drain_node"]`).replace('      max: 2\n', `      max: ${max}\n`));
    expect(diffPolicies(named(2), named(3))).toEqual([expect.objectContaining({ kind: 'limit', change: 'changed', name: '__proto__' })]);
  });
});

describe('unifiedDiff', () => {
  it('is a unified diff of the YAML with both names in the header', () => {
    const patch = unifiedDiff('team@v1', V1, 'team@v2', V1.replace('max_steps: 40', 'max_steps: 20'));
    expect(patch).toContain('--- team@v1');
    expect(patch).toContain('+++ team@v2');
    expect(patch).toContain('-    per_run: { max_cost_usd: 2.00, max_steps: 40 }');
    expect(patch).toContain('+    per_run: { max_cost_usd: 2.00, max_steps: 20 }');
    expect(patch).toMatch(/^@@ -7,7 \+7,7 @@$/m);
    expect(patch.startsWith('--- team@v1\n+++ team@v2\n')).toBe(true);
  });

  it('past the edit bound it still answers, replacing every line', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n') + '\n';
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n') + '\n';
    const patch = unifiedDiff('x', a, 'y', b);
    expect(patch).toContain('@@ -1,3000 +1,3000 @@');
    expect(patch.split('\n').filter((l) => l.startsWith('-a')).length).toBe(3000);
    expect(patch.split('\n').filter((l) => l.startsWith('+b')).length).toBe(3000);
  });
});
