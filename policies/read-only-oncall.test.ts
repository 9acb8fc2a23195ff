import { describe, expect, it } from 'vitest';
import { tools } from '../worker/tools/catalog';
import { caseName, decideCase, expectCase, loadPolicy, type PolicyCase } from './policy-cases';

const policy = loadPolicy('read-only-oncall');
const SECOND_PERSON = { roles: ['sre', 'admin'], count: 1, distinct_from_requester: true, expires_in: '1h' };

const cases: PolicyCase[] = [
  { role: 'operator', tool: 'k8s.get_pod_logs', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'github.list_deployments', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.list_oncalls', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.get_issue', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'core.wait', effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.acknowledge_incident', effect: 'deny', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.create_issue', context: { incident_severity: 'sev1' }, effect: 'deny', because: ['role:operator'] },
  { role: 'operator', tool: 'k8s.drain_node', effect: 'deny', because: ['role:operator', 'rule:high-risk-waits-for-day-team'] },
  { role: 'sre', tool: 'pagerduty.acknowledge_incident', effect: 'require_approval', because: ['rule:writes-need-second-person'], approval: SECOND_PERSON },
  { role: 'sre', tool: 'k8s.restart_deployment', context: { environment: 'prod' }, effect: 'require_approval', because: ['rule:writes-need-second-person'], approval: SECOND_PERSON },
  { role: 'sre', tool: 'k8s.drain_node', effect: 'deny', because: ['rule:high-risk-waits-for-day-team'] },
  { role: 'admin', tool: 'github.rollback_deployment', context: { incident_severity: 'sev1' }, effect: 'deny', because: ['rule:high-risk-waits-for-day-team'] },
  { role: 'sre', tool: 'k8s.get_deployment', effect: 'allow', because: ['role:sre'] },
  { role: 'viewer', tool: 'k8s.get_node', effect: 'deny', because: ['role:viewer'] },
];

describe('policies/read-only-oncall.yaml', () => {
  it.each(cases.map((c) => [caseName(c), c] as const))('%s', (_, c) => expectCase(policy, c));

  it('no role can make any mutating call without a second person, in any context', () => {
    const contexts = [{}, { environment: 'prod' }, { environment: 'staging' }, { incident_severity: 'sev1' }];
    for (const tool of tools.filter((t) => t.mutating)) {
      for (const role of ['viewer', 'operator', 'sre', 'admin']) {
        for (const context of contexts) {
          const d = decideCase(policy, { role, tool: tool.id, context, effect: 'deny', because: [] });
          expect(d.effect, `${role} ${tool.id} ${JSON.stringify(context)}`).not.toBe('allow');
          if (d.effect === 'require_approval') expect(d.approval?.distinct_from_requester).toBe(true);
        }
      }
    }
  });

  it('on-call responders (operators) can read every read-only tool, and nothing else', () => {
    for (const tool of tools) {
      const d = decideCase(policy, { role: 'operator', tool: tool.id, effect: 'allow', because: [] });
      expect(d.effect, tool.id).toBe(tool.mutating ? 'deny' : 'allow');
    }
  });
});
