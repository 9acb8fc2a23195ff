import { describe, expect, it } from 'vitest';
import { getTool, toolIds } from '../worker/tools/catalog';
import { caseName, expectCase, labelled, loadPolicy, SAMPLE_ARGS, UNLABELLED, type PolicyCase } from './policy-cases';

const policy = loadPolicy('default');
const PROD = labelled({ environment: 'prod' });
const STAGING = labelled({ environment: 'staging' });
const SECOND_PAIR = { roles: ['sre', 'admin'], count: 1, distinct_from_requester: true, expires_in: '30m' };

const cases: PolicyCase[] = [
  { role: 'operator', tool: 'k8s.get_node', target: PROD, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.create_issue', target: STAGING, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'k8s.drain_node', target: STAGING, effect: 'deny', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.add_note', context: { environment: 'prod' }, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: SECOND_PAIR },
  // The cluster's labels decide, whatever the caller says.
  { role: 'sre', tool: 'k8s.drain_node', target: STAGING, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: SECOND_PAIR },
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, context: { environment: 'staging' }, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: SECOND_PAIR },
  { role: 'sre', tool: 'k8s.restart_deployment', target: labelled({ environment: 'dev' }), context: { environment: 'staging' }, effect: 'allow', because: ['role:sre'] },
  // Context can add caution, never remove it.
  { role: 'sre', tool: 'k8s.drain_node', target: STAGING, context: { environment: 'prod' }, effect: 'require_approval', because: ['rule:prod-writes-need-approval'] },
  { role: 'sre', tool: 'k8s.get_node', target: PROD, effect: 'allow', because: ['role:sre'] },
  // Fail-safe: a real cluster nobody labelled is production; an unregistered one is simulated (and fails in a live run).
  { role: 'sre', tool: 'k8s.cordon_node', target: UNLABELLED, effect: 'require_approval', because: ['rule:unlabelled-targets-are-prod'], approval: SECOND_PAIR },
  { role: 'sre', tool: 'k8s.cordon_node', target: UNLABELLED, context: { environment: 'dev' }, effect: 'require_approval', because: ['rule:unlabelled-targets-are-prod'] },
  { role: 'sre', tool: 'github.rollback_deployment', target: UNLABELLED, effect: 'require_approval', because: ['rule:unlabelled-targets-are-prod'] },
  { role: 'sre', tool: 'github.comment_issue', target: UNLABELLED, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'k8s.cordon_node', effect: 'allow', because: ['role:sre'] },
  // Change freezes come from the tenant settings on the server's clock.
  { role: 'sre', tool: 'k8s.drain_node', target: STAGING, now: { change_freeze: true }, effect: 'deny', because: ['rule:change-freeze'] },
  { role: 'sre', tool: 'k8s.drain_node', target: STAGING, now: { change_freeze: true }, context: { change_freeze: false }, effect: 'deny', because: ['rule:change-freeze'] },
  { role: 'sre', tool: 'k8s.drain_node', target: STAGING, context: { change_freeze: true }, effect: 'deny', because: ['rule:change-freeze'] },
  { role: 'sre', tool: 'k8s.restart_deployment', target: STAGING, now: { change_freeze: true }, effect: 'allow', because: ['role:sre'] },
  { role: 'admin', tool: 'k8s.rollback_deployment', target: PROD, now: { change_freeze: true }, effect: 'deny', because: ['rule:change-freeze'] },
  { role: 'sre', tool: 'k8s.drain_node', target: STAGING, stepRequiresApproval: true, effect: 'require_approval', because: ['runbook:approval: required'], approval: { roles: ['sre', 'admin'], count: 1 } },
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
