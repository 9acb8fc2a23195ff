import { describe, expect, it } from 'vitest';
import { getTool, toolIds } from '../worker/tools/catalog';
import { caseName, expectCase, loadPolicy, SAMPLE_ARGS, type PolicyCase } from './policy-cases';

const policy = loadPolicy('default');
const PROD = { environment: 'prod' };
const STAGING = { environment: 'staging' };

const cases: PolicyCase[] = [
  { role: 'operator', tool: 'k8s.get_node', context: PROD, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.create_issue', context: STAGING, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'k8s.drain_node', context: STAGING, effect: 'deny', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.add_note', context: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: { roles: ['sre', 'admin'], count: 1, distinct_from_requester: true, expires_in: '30m' } },
  { role: 'sre', tool: 'k8s.drain_node', context: STAGING, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'k8s.drain_node', context: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: { distinct_from_requester: true } },
  { role: 'sre', tool: 'k8s.get_node', context: PROD, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'k8s.drain_node', context: { change_freeze: true }, effect: 'deny', because: ['rule:change-freeze'] },
  { role: 'sre', tool: 'k8s.restart_deployment', context: { change_freeze: true }, effect: 'allow', because: ['role:sre'] },
  { role: 'admin', tool: 'k8s.rollback_deployment', context: { ...PROD, change_freeze: true }, effect: 'deny', because: ['rule:change-freeze'] },
  { role: 'sre', tool: 'k8s.drain_node', context: STAGING, stepRequiresApproval: true, effect: 'require_approval', because: ['runbook:approval: required'], approval: { roles: ['sre', 'admin'], count: 1 } },
  { role: 'viewer', tool: 'k8s.get_node', effect: 'deny', because: ['role:viewer'] },
  { role: 'auditor', tool: 'k8s.get_node', effect: 'deny', because: ['role:auditor'] },
];

describe('policies/default.yaml', () => {
  it.each(cases.map((c) => [caseName(c), c] as const))('%s', (_, c) => expectCase(policy, c));

  it('the sample arguments the policy tests use are valid for every catalog tool', () => {
    expect(Object.keys(SAMPLE_ARGS).sort()).toEqual(toolIds().sort());
    for (const [id, args] of Object.entries(SAMPLE_ARGS)) expect(getTool(id)!.args.safeParse(args).success, id).toBe(true);
  });
});
