import { describe, expect, it } from 'vitest';
import { caseName, expectCase, labelled, loadPolicy, type PolicyCase } from './policy-cases';

const policy = loadPolicy('strict-production');
const PROD = labelled({ environment: 'prod' });
const STAGING = labelled({ environment: 'staging' });
const TWO_SRES = { roles: ['sre'], count: 2, distinct_from_requester: true, expires_in: '15m' };
const NIGHT = { business_hours: false };

const cases: PolicyCase[] = [
  // Operators investigate and communicate.
  { role: 'operator', tool: 'k8s.get_node', target: PROD, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'github.list_deployments', target: PROD, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'jira.create_issue', target: STAGING, effect: 'allow', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.acknowledge_incident', effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'operator', tool: 'k8s.restart_deployment', target: STAGING, effect: 'deny', because: ['role:operator'] },
  { role: 'operator', tool: 'github.revert_pull_request', target: STAGING, effect: 'deny', because: ['role:operator'] },
  { role: 'operator', tool: 'pagerduty.resolve_incident', effect: 'deny', because: ['role:operator'] },
  // Production writes, and writes to targets without an environment label: two SREs, within 15 minutes.
  { role: 'sre', tool: 'k8s.restart_deployment', target: STAGING, effect: 'allow', because: ['role:sre'] },
  { role: 'sre', tool: 'k8s.restart_deployment', target: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'sre', tool: 'k8s.restart_deployment', target: PROD, context: { environment: 'staging' }, effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'sre', tool: 'k8s.restart_deployment', effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'sre', tool: 'k8s.restart_deployment', context: { environment: 'staging' }, effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'admin', tool: 'jira.create_issue', target: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'sre', tool: 'k8s.get_deployment', target: PROD, effect: 'allow', because: ['role:sre'] },
  // High risk: inside the tenant's business hours only, on the server's clock; no claim opens it.
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, now: NIGHT, effect: 'deny', because: ['rule:high-risk-outside-business-hours'] },
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, now: NIGHT, context: { business_hours: true }, effect: 'deny', because: ['rule:high-risk-outside-business-hours'] },
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, now: NIGHT, context: { incident_severity: 'sev1' }, effect: 'deny', because: ['rule:high-risk-outside-business-hours'] },
  { role: 'admin', tool: 'k8s.rollback_deployment', target: STAGING, now: NIGHT, effect: 'deny', because: ['rule:high-risk-outside-business-hours'] },
  { role: 'sre', tool: 'github.rollback_deployment', target: STAGING, effect: 'allow', because: ['role:sre'] },
  // The reproduction: a rollback on prod-eu claimed to be staging in business hours.
  { role: 'sre', tool: 'k8s.rollback_deployment', target: PROD, context: { environment: 'staging', business_hours: true }, effect: 'require_approval', because: ['rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'sre', tool: 'k8s.rollback_deployment', target: PROD, now: NIGHT, context: { environment: 'staging', business_hours: true }, effect: 'deny', because: ['rule:high-risk-outside-business-hours'] },
  // Arguments: platform namespaces and oversized scaling steps.
  { role: 'admin', tool: 'k8s.restart_deployment', target: STAGING, args: { namespace: 'kube-system' }, effect: 'deny', because: ['rule:protected-namespaces'] },
  { role: 'admin', tool: 'k8s.get_deployment', target: PROD, args: { namespace: 'kube-system' }, effect: 'allow', because: ['role:admin'] },
  { role: 'sre', tool: 'k8s.scale_deployment', target: STAGING, args: { replicas: 40 }, effect: 'deny', because: ['rule:scale-step-cap'] },
  { role: 'sre', tool: 'k8s.scale_deployment', target: STAGING, args: { replicas: 30 }, effect: 'allow', because: ['role:sre'] },
  // A runbook's own `approval: required` merges with the rule: the stricter requirement wins.
  { role: 'sre', tool: 'k8s.drain_node', target: PROD, stepRequiresApproval: true, effect: 'require_approval', because: ['runbook:approval: required', 'rule:prod-writes-need-two-sres'], approval: TWO_SRES },
  { role: 'viewer', tool: 'k8s.get_node', effect: 'deny', because: ['role:viewer'] },
];

describe('policies/strict-production.yaml', () => {
  it.each(cases.map((c) => [caseName(c), c] as const))('%s', (_, c) => expectCase(policy, c));

  it('is tighter than the default policy on budgets and blast radius', () => {
    const { per_run, per_tenant } = policy.spec.budgets;
    expect(per_run).toEqual({ max_cost_usd: 1, max_tokens: 100000, max_steps: 20, max_duration: '30m' });
    expect(per_tenant).toEqual({ max_cost_usd_per_day: 20, max_runs_per_hour: 30 });
    expect(policy.spec.limits.find((l) => l.tools.includes('k8s.drain_node'))).toMatchObject({ max: 1, per: '1h' });
  });
});
