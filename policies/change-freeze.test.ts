import { describe, it } from 'vitest';
import { caseName, expectCase, loadPolicy, type PolicyCase } from './policy-cases';

const policy = loadPolicy('change-freeze');
const PROD = { environment: 'prod' };
const STAGING = { environment: 'staging' };
const SEV1 = { incident_severity: 'sev1' };

const cases: PolicyCase[] = [
  // Investigating and running the incident keep working.
  { role: 'operator', tool: 'k8s.get_deployment', context: PROD, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.acknowledge_incident', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.create_issue', context: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: { roles: ['sre', 'admin'], distinct_from_requester: true } },
  { role: 'sre', tool: 'github.create_issue', context: STAGING, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'github.get_pull_request', effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'core.http_check', context: PROD, effect: 'allow', because: ['role:sre'] },
  // Changes to clusters and deployments are frozen, whatever their risk.
  { role: 'sre', tool: 'k8s.restart_deployment', context: STAGING, effect: 'deny', because: ['rule:freeze-blocks-changes'] },
  { role: 'sre', tool: 'k8s.uncordon_node', context: STAGING, effect: 'deny', because: ['rule:freeze-blocks-changes'] },
  { role: 'sre', tool: 'github.rollback_deployment', context: PROD, effect: 'deny', because: ['rule:freeze-blocks-changes'] },
  { role: 'admin', tool: 'github.revert_pull_request', effect: 'deny', because: ['rule:freeze-blocks-changes'] },
  { role: 'sre', tool: 'k8s.drain_node', context: { ...PROD, incident_severity: 'sev2' }, effect: 'deny', because: ['rule:freeze-blocks-changes'] },
  { role: 'sre', tool: 'k8s.drain_node', context: { ...PROD, incident_severity: 'SEV1' }, effect: 'deny', because: ['rule:freeze-blocks-changes'] },
  // Break-glass: a sev1 opens the path, an admin other than the requester must approve.
  { role: 'sre', tool: 'k8s.scale_deployment', context: { ...STAGING, ...SEV1 }, effect: 'require_approval', because: ['rule:break-glass-sev1'], approval: { roles: ['admin'], count: 1, distinct_from_requester: true, expires_in: '15m' } },
  { role: 'sre', tool: 'k8s.drain_node', context: { ...PROD, ...SEV1 }, effect: 'require_approval', because: ['rule:break-glass-sev1', 'rule:prod-writes-need-approval'], approval: { roles: ['admin'], count: 1, distinct_from_requester: true, expires_in: '15m' } },
  { role: 'admin', tool: 'github.rollback_deployment', context: SEV1, effect: 'require_approval', because: ['rule:break-glass-sev1'], approval: { roles: ['admin'] } },
  // Break-glass does not widen a role: operators still cannot change clusters.
  { role: 'operator', tool: 'k8s.restart_deployment', context: SEV1, effect: 'deny', because: ['role:operator'] },
  { role: 'viewer', tool: 'k8s.get_node', effect: 'deny', because: ['role:viewer'] },
];

describe('policies/change-freeze.yaml', () => {
  it.each(cases.map((c) => [caseName(c), c] as const))('%s', (_, c) => expectCase(policy, c));
});
