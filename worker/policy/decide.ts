import { evalCondition } from '../cel';
import type { Risk } from '../tools/types';
import { matchesToolPattern } from '../tools/catalog';
import { parseDuration } from '../lib/duration';
import type { Facts } from './facts';
import { roleOf, type ApprovalRequirement, type Policy, type PolicyLimit } from './schema';

export type Effect = 'allow' | 'deny' | 'require_approval';


export interface Reason {
  kind: 'role' | 'rule' | 'runbook' | 'budget' | 'limit' | 'reviewer';
  name: string;
  effect: Effect;
  message: string;
}

export interface Decision {
  effect: Effect;
  reasons: Reason[];
  /** Present when the effect is `require_approval`: who must approve, how many, how fast. */
  approval?: ApprovalRequirement;
  /** The trusted facts the decision rested on, as recorded with a run's step. */
  facts?: Facts;
}

export interface DecisionRequest {
  tool: { id: string; mutating: boolean; risk: Risk };
  args: Record<string, unknown>;
  actor: { type: string; id: string; role: string };
  /** What the caller asserted: a claim, for convenience rules; never the basis of a security decision. */
  context: Record<string, unknown>;
  /** What the server knows (DESIGN §13): the target's labels, the tenant's schedule, the clock. */
  facts: Facts;
  run?: { id: string; runbook: string; mode: string };
  /** The runbook step asked for a human approval (`approval: required`). */
  stepRequiresApproval?: boolean;
  /** What has been spent and counted so far; budgets and limits are only checked when given. */
  usage?: Usage;
}

/** Counters the decision needs from outside (the run's own, the tenant's, the blast-radius windows). */
export interface Usage {
  run?: { steps_started: number; elapsed_ms: number; tokens: number; cost_usd: number };
  tenant?: { cost_usd_today: number };
  /** Calls made in each `limits` window, index-aligned with `policy.spec.limits` (absent = not counted). */
  limits?: (number | undefined)[];
}

// Separation of duties is the default (DESIGN §14): a step that only says `approval: required`,
// or a rule without an approval block, needs someone other than the requester.
const DEFAULT_APPROVAL: ApprovalRequirement = { roles: ['sre', 'admin'], count: 1, distinct_from_requester: true };

const RANK: Record<Effect, number> = { allow: 0, require_approval: 1, deny: 2 };

/**
 * The policy decision point: deterministic code, never a model. Every reason names the role,
 * rule or runbook setting that produced it; the strongest effect wins (deny > require_approval > allow).
 */
export function decide(policy: Policy, req: DecisionRequest): Decision {
  const reasons: Reason[] = [];
  const role = roleOf(policy, req.actor.role);
  if (!role) {
    reasons.push({ kind: 'role', name: req.actor.role, effect: 'deny', message: `Role "${req.actor.role}" is not defined by policy "${policy.metadata.name}"` });
  } else {
    const pattern = role.tools.find((p) => matchesToolPattern(p, req.tool.id));
    reasons.push(
      pattern
        ? { kind: 'role', name: req.actor.role, effect: 'allow', message: `Role "${req.actor.role}" may use ${req.tool.id} (pattern "${pattern}")` }
        : { kind: 'role', name: req.actor.role, effect: 'deny', message: `Role "${req.actor.role}" is not allowed to use ${req.tool.id}` },
    );
  }

  let approval: ApprovalRequirement | undefined;
  if (req.stepRequiresApproval) {
    reasons.push({ kind: 'runbook', name: 'approval: required', effect: 'require_approval', message: 'The runbook step requires a human approval' });
    approval = DEFAULT_APPROVAL;
  }

  const budget = budgetReason(policy, req.usage);
  if (budget) reasons.push(budget);
  if (req.usage?.limits) {
    for (const [i, limit] of policy.spec.limits.entries()) {
      const used = req.usage.limits[i];
      if (used === undefined || !limitCovers(limit, req.tool.id)) continue;
      if (used >= limit.max) {
        reasons.push({ kind: 'limit', name: limitName(limit), effect: 'deny', message: `Blast-radius limit "${limitName(limit)}" reached: ${used} of ${limit.max} per ${limit.per} used` });
      }
    }
  }

  const vars = {
    context: req.context,
    tool: req.tool,
    args: req.args,
    actor: req.actor,
    run: req.run ?? {},
    target: req.facts.target,
    tenant: req.facts.tenant,
    now: req.facts.now,
  };
  for (const rule of policy.spec.rules) {
    let matched: boolean;
    try {
      matched = evalCondition(rule.when, vars);
    } catch (err) {
      // A rule that cannot be evaluated fails closed: it is safer to stop than to skip a guardrail.
      reasons.push({ kind: 'rule', name: rule.name, effect: 'deny', message: `Rule could not be evaluated: ${(err as Error).message}` });
      continue;
    }
    if (!matched) continue;
    reasons.push({ kind: 'rule', name: rule.name, effect: rule.effect, message: rule.reason ?? `Rule "${rule.name}" matched` });
    if (rule.effect === 'require_approval') {
      const next = rule.approval ?? DEFAULT_APPROVAL;
      if (approval && !approval.roles.some((r) => next.roles.includes(r))) {
        // No one could satisfy both: dropping either requirement would loosen the policy.
        reasons.push({
          kind: 'rule',
          name: rule.name,
          effect: 'deny',
          message: `Rule "${rule.name}" asks for approval by ${next.roles.join(', ')}, which no other matching approval rule accepts (${approval.roles.join(', ')}); no approver can satisfy both`,
        });
        continue;
      }
      approval = mergeApproval(approval, next);
    }
  }

  const effect = reasons.reduce<Effect>((acc, r) => (RANK[r.effect] > RANK[acc] ? r.effect : acc), 'allow');
  return effect === 'require_approval' ? { effect, reasons, approval } : { effect, reasons };
}

/** Two approval requirements combine into the stricter of each setting. */
function mergeApproval(a: ApprovalRequirement | undefined, b: ApprovalRequirement): ApprovalRequirement {
  if (!a || a === DEFAULT_APPROVAL) return b;
  return {
    roles: a.roles.filter((r) => b.roles.includes(r)),
    count: Math.max(a.count, b.count),
    distinct_from_requester: a.distinct_from_requester || b.distinct_from_requester,
    expires_in: earliest(a.expires_in, b.expires_in),
  };
}

/** The first per-run or per-tenant budget that is used up, as a deny reason. */
export function budgetReason(policy: Policy, usage: Usage | undefined): Reason | undefined {
  if (!usage) return undefined;
  const { per_run: perRun, per_tenant: perTenant } = policy.spec.budgets;
  const deny = (name: string, message: string): Reason => ({ kind: 'budget', name, effect: 'deny', message });
  const r = usage.run;
  if (r) {
    if (perRun.max_steps !== undefined && r.steps_started >= perRun.max_steps) return deny('per_run.max_steps', `max_steps ${perRun.max_steps} reached`);
    const maxMs = perRun.max_duration ? parseDuration(perRun.max_duration) : undefined;
    if (maxMs !== undefined && r.elapsed_ms > maxMs) return deny('per_run.max_duration', `max_duration ${perRun.max_duration} exceeded`);
    if (perRun.max_tokens !== undefined && r.tokens > perRun.max_tokens) return deny('per_run.max_tokens', `max_tokens ${perRun.max_tokens} exceeded`);
    if (perRun.max_cost_usd !== undefined && r.cost_usd > perRun.max_cost_usd) return deny('per_run.max_cost_usd', `max_cost_usd ${perRun.max_cost_usd} exceeded`);
  }
  const t = usage.tenant;
  if (t && perTenant.max_cost_usd_per_day !== undefined && t.cost_usd_today >= perTenant.max_cost_usd_per_day) {
    return deny('per_tenant.max_cost_usd_per_day', `max_cost_usd_per_day ${perTenant.max_cost_usd_per_day} reached (${round2(t.cost_usd_today)} USD spent today, UTC)`);
  }
  return undefined;
}

/** Whether a blast-radius limit counts calls of this tool. */
export function limitCovers(limit: PolicyLimit, toolId: string): boolean {
  return limit.tools.some((p) => matchesToolPattern(p, toolId));
}

export function limitName(limit: PolicyLimit): string {
  return limit.name ?? `${limit.tools.join(', ')} max ${limit.max} per ${limit.per}`;
}

/** The shorter of two approval windows (either may be absent). */
function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return (parseDuration(a) ?? Infinity) <= (parseDuration(b) ?? Infinity) ? a : b;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
