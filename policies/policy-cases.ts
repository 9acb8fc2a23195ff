// Shared by the policy files' tests: load a policy through the real validator, and ask decide()
// what a call would get, the way the run engine asks it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { decide, type Decision, type Effect } from '../worker/policy/decide';
import { factsFor, unknownTarget, type Facts, type NowFacts, type TargetFacts } from '../worker/policy/facts';
import type { ApprovalRequirement, Policy } from '../worker/policy/schema';
import { checkPolicyYaml } from '../worker/policy/validate';
import { getTool } from '../worker/tools/catalog';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Reads `policies/<name>.yaml` and validates it as POST /policies would; a shipped policy must have no errors and no warnings. */
export function loadPolicy(name: string): Policy {
  const checked = checkPolicyYaml(readFileSync(path.join(HERE, `${name}.yaml`), 'utf8'));
  if (!checked.ok) throw new Error(`${name}.yaml is invalid: ${JSON.stringify(checked.errors)}`);
  expect(checked.warnings, `${name}.yaml warnings`).toEqual([]);
  return checked.policy;
}

/** Valid arguments for every catalog tool, as a runbook step would resolve them. */
export const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  'github.create_issue': { repo: 'acme/shop', title: 'Checkout errors' },
  'github.comment_issue': { repo: 'acme/shop', number: 12, body: 'Mitigated' },
  'github.close_issue': { repo: 'acme/shop', number: 12 },
  'github.get_pull_request': { repo: 'acme/shop', number: 481 },
  'github.revert_pull_request': { repo: 'acme/shop', number: 481 },
  'github.list_deployments': { repo: 'acme/shop', environment: 'production' },
  'github.rollback_deployment': { repo: 'acme/shop', environment: 'production' },
  'jira.create_issue': { project: 'OPS', summary: 'Node drained' },
  'jira.get_issue': { key: 'OPS-1' },
  'jira.transition_issue': { key: 'OPS-1', transition: 'Done' },
  'jira.add_comment': { key: 'OPS-1', body: 'Done' },
  'pagerduty.get_incident': { incident_id: 'P1ABC' },
  'pagerduty.acknowledge_incident': { incident_id: 'P1ABC' },
  'pagerduty.resolve_incident': { incident_id: 'P1ABC' },
  'pagerduty.add_note': { incident_id: 'P1ABC', content: 'Scaled up' },
  'pagerduty.create_incident': { service_id: 'PSVC1', title: 'Checkout down' },
  'pagerduty.list_oncalls': {},
  'k8s.get_node': { cluster: 'prod-eu', node: 'node-7' },
  'k8s.cordon_node': { cluster: 'prod-eu', node: 'node-7' },
  'k8s.uncordon_node': { cluster: 'prod-eu', node: 'node-7' },
  'k8s.drain_node': { cluster: 'prod-eu', node: 'node-7' },
  'k8s.get_deployment': { cluster: 'prod-eu', namespace: 'shop', name: 'api' },
  'k8s.restart_deployment': { cluster: 'prod-eu', namespace: 'shop', name: 'api' },
  'k8s.scale_deployment': { cluster: 'prod-eu', namespace: 'shop', name: 'api', replicas: 6 },
  'k8s.rollback_deployment': { cluster: 'prod-eu', namespace: 'shop', name: 'api' },
  'k8s.get_pod_logs': { cluster: 'prod-eu', namespace: 'shop', pod: 'api-7d9f-x2' },
  'core.wait': { duration: '30s' },
  'core.http_check': { url: 'https://shop.example.com/healthz' },
};

/** A registered, live target with these labels (a cluster the tenant registered, a labelled repository). */
export const labelled = (labels: Record<string, string>): Partial<TargetFacts> => ({ registered: true, live: true, labels });
/** A registered, live target nobody labelled. */
export const UNLABELLED: Partial<TargetFacts> = { registered: true, live: true, labels: {} };

/** A Monday, 10:00 UTC: inside the default business hours, outside any freeze. */
export const MONDAY_10_UTC = Date.UTC(2026, 0, 5, 10);

export interface PolicyCase {
  role: string;
  tool: string;
  /** What the caller asserts; never a trusted fact. */
  context?: Record<string, unknown>;
  /** What the server knows of the target, over an unknown one (unregistered, no labels). */
  target?: Partial<TargetFacts>;
  /** Derived clock facts over a Monday 10:00 UTC (inside default business hours, no freeze). */
  now?: Partial<NowFacts>;
  /** Merged over the tool's sample arguments. */
  args?: Record<string, unknown>;
  /** The runbook step says `approval: required`. */
  stepRequiresApproval?: boolean;
  effect: Effect;
  /** The reasons that carry the effect, as `kind:name` (e.g. `rule:change-freeze`, `role:operator`). */
  because: string[];
  /** For require_approval: the fields of the merged requirement to check. */
  approval?: Partial<ApprovalRequirement>;
}

/** Asks decide() about one call, as the run engine would for a step of a run started by `role`. */
export function decideCase(policy: Policy, c: PolicyCase): Decision {
  const tool = getTool(c.tool);
  if (!tool) throw new Error(`unknown tool ${c.tool}`);
  const args = { ...SAMPLE_ARGS[c.tool], ...c.args };
  return decide(policy, {
    tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
    args,
    actor: { type: 'api_key', id: 'key_requester', role: c.role },
    context: c.context ?? {},
    facts: caseFacts(c.tool, args, c),
    run: { id: 'run_test', runbook: 'test', mode: 'execute' },
    stepRequiresApproval: c.stepRequiresApproval,
  });
}

/** The facts of a case: the call's target as the case says the server knows it, the clock's facts as given. */
export function caseFacts(toolId: string, args: Record<string, unknown>, c: Pick<PolicyCase, 'target' | 'now'>): Facts {
  const base = factsFor(unknownTarget(toolId, args), {}, MONDAY_10_UTC);
  return { ...base, target: { ...base.target, ...c.target }, now: { ...base.now, ...c.now } };
}

/** The reasons that produced the decision's effect, as `kind:name`. */
export function because(decision: Decision): string[] {
  return decision.reasons.filter((r) => r.effect === decision.effect).map((r) => `${r.kind}:${r.name}`);
}

/** Checks one table row: the effect, the named reasons behind it, and the approval asked for. */
export function expectCase(policy: Policy, c: PolicyCase): void {
  const d = decideCase(policy, c);
  expect({ effect: d.effect, because: because(d) }, JSON.stringify(d.reasons)).toEqual({ effect: c.effect, because: c.because });
  if (c.effect === 'require_approval') expect(d.approval).toMatchObject(c.approval ?? {});
  else expect(d.approval).toBeUndefined();
}

/** A readable test name for a row. */
export function caseName(c: PolicyCase): string {
  const target = c.target ? ` target ${c.target.registered === false ? 'unregistered' : JSON.stringify(c.target.labels ?? {})}` : '';
  const now = c.now ? ` now ${JSON.stringify(c.now)}` : '';
  const ctx = (Object.keys(c.context ?? {}).length ? ` context ${JSON.stringify(c.context)}` : '') + target + now;
  const args = c.args ? ` args ${JSON.stringify(c.args)}` : '';
  return `${c.role} · ${c.tool}${ctx}${args}${c.stepRequiresApproval ? ' (step requires approval)' : ''} → ${c.effect}`;
}
