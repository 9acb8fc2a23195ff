import { describe, it } from 'vitest';
import { caseName, expectCase, labelled, loadPolicy, type PolicyCase } from './policy-cases';

const policy = loadPolicy('change-freeze');
const PROD = labelled({ environment: 'prod' });
const STAGING = labelled({ environment: 'staging' });
const BREAK_GLASS = { roles: ['admin'], count: 1, distinct_from_requester: true, expires_in: '15m' };

const cases: PolicyCase[] = [
  // Investigating and running the incident keep working.
  { role: 'operator', tool: 'k8s.get_deployment', target: PROD, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.acknowledge_incident', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.create_issue', target: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-approval'], approval: { roles: ['sre', 'admin'], distinct_from_requester: true } },
  { role: 'sre', tool: 'github.create_issue', target: STAGING, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'github.get_pull_request', effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'core.http_check', effect: 'allow', because: ['role:sre'] },
  // Changes to clusters and deployments go through break-glass, whatever their risk or the caller's claims.
  { role: 'sre', tool: 'k8s.restart_deployment', target: STAGING, effect: 'require_approval', because: ['rule:freeze-break-glass'], approval: BREAK_GLASS },
  { role: 'sre', tool: 'k8s.uncordon_node', target: STAGING, context: { incident_severity: 'sev1' }, effect: 'require_approval', because: ['rule:freeze-break-glass'], approval: BREAK_GLASS },
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, effect: 'require_approval', because: ['rule:freeze-break-glass', 'rule:prod-writes-need-approval'], approval: BREAK_GLASS },
  { role: 'sre', tool: 'github.rollback_deployment', target: PROD, effect: 'require_approval', because: ['rule:freeze-break-glass', 'rule:prod-writes-need-approval'], approval: BREAK_GLASS },
  { role: 'admin', tool: 'github.revert_pull_request', effect: 'require_approval', because: ['rule:freeze-break-glass'], approval: BREAK_GLASS },
  // Break-glass does not widen a role: operators still cannot change clusters.
  { role: 'operator', tool: 'k8s.restart_deployment', context: { incident_severity: 'sev1' }, effect: 'deny', because: ['role:operator'] },
  { role: 'viewer', tool: 'k8s.get_node', effect: 'deny', because: ['role:viewer'] },
];

describe('policies/change-freeze.yaml', () => {
  it.each(cases.map((c) => [caseName(c), c] as const))('%s', (_, c) => expectCase(policy, c));
});
