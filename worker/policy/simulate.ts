import { z } from 'zod';
import { canonicalJson } from '../lib/crypto';
import { getTool } from '../tools/catalog';
import { decide, type Decision, type Effect, type Reason } from './decide';
import { factsFor, unknownTarget, type Facts } from './facts';
import type { Policy } from './schema';

/** A past run as the D1 mirror recorded it: who ran it, in what context, and each step's decision. */
export interface RecordedRun {
  id: string;
  runbook: string;
  mode: string;
  context: Record<string, unknown>;
  /** `role` is null for runs recorded before the role was mirrored; they cannot be replayed. */
  actor: { type: string; id: string; role: string | null };
  steps: RecordedStep[];
}

export interface RecordedStep {
  id: string;
  tool: string;
  /** The resolved arguments and the decision are JSON columns: untrusted shapes until checked. */
  args: unknown;
  decision: unknown;
  /** Facts looked up today, for a step whose decision did not record the facts it rested on. */
  facts?: Facts;
}

export interface ChangedDecision {
  run_id: string;
  runbook: string;
  step_id: string;
  tool: string;
  before: Pick<Decision, 'effect' | 'reasons' | 'approval'>;
  after: Pick<Decision, 'effect' | 'reasons' | 'approval'>;
}

export interface SimulationResult {
  runs_considered: number;
  steps_considered: number;
  /** Steps that could not be replayed: no recorded arguments or decision, a tool no longer in the catalog, no recorded role. */
  steps_skipped: number;
  changed: ChangedDecision[];
  /** Whether `changed` was cut at MAX_LISTED_CHANGES; `summary` always counts every change. */
  truncated: boolean;
  /**
   * Count of changes by transition, e.g. `{ "allow→require_approval": 3 }`;
   * `require_approval→require_approval` counts approvals asked of other people (roles, quorum, expiry).
   */
  summary: Record<string, number>;
}

/** Enough to review by eye; the summary still counts every change. */
export const MAX_LISTED_CHANGES = 500;

const recordedDecision = z.object({
  effect: z.enum(['allow', 'deny', 'require_approval']),
  reasons: z.array(z.object({ kind: z.enum(['role', 'rule', 'runbook', 'budget', 'limit']), name: z.string(), effect: z.enum(['allow', 'deny', 'require_approval']), message: z.string() })),
  approval: z
    .object({ roles: z.array(z.string()), count: z.number(), distinct_from_requester: z.boolean(), expires_in: z.string().optional() })
    .optional(),
  facts: z.object({ target: z.record(z.string(), z.unknown()), tenant: z.record(z.string(), z.unknown()), now: z.record(z.string(), z.unknown()) }).optional(),
});

/** Whether a recorded step's decision lacks the facts it rested on (recorded before facts were kept). */
export function lacksFacts(step: RecordedStep): boolean {
  const d = recordedDecision.safeParse(step.decision);
  return !d.success || d.data.facts === undefined;
}

const recordedArgs = z.record(z.string(), z.unknown());

/**
 * Replays recorded step decisions under another policy with the same decide() the engine uses,
 * and lists those that would change: another effect, or an approval asked of other people (roles,
 * quorum, separation of duties, expiry) — "two SREs instead of one" is a change too. Each step is
 * asked with what the run recorded: its actor and role, its context, the step's resolved arguments,
 * the trusted facts its decision rested on (today's facts for steps recorded before facts were
 * kept), and whether the runbook step itself demanded an approval (recorded as a `runbook` reason).
 * The tool's flags come from today's catalog.
 *
 * Not replayed: budgets and blast-radius limits. They depend on what was spent and on other runs
 * at the time, not on the policy text alone, so their reasons are left out of both sides: a step
 * that a full window denied then is compared on what its roles and rules decided.
 */
export function simulatePolicy(policy: Policy, runs: readonly RecordedRun[]): SimulationResult {
  const result: SimulationResult = { runs_considered: runs.length, steps_considered: 0, steps_skipped: 0, changed: [], truncated: false, summary: {} };
  for (const run of runs) {
    for (const step of run.steps) {
      const before = recordedDecision.safeParse(step.decision);
      const args = recordedArgs.safeParse(step.args);
      const tool = getTool(step.tool);
      const role = run.actor.role;
      if (!before.success || !args.success || !tool || role === null) {
        result.steps_skipped++;
        continue;
      }
      result.steps_considered++;
      const after = decide(policy, {
        tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
        args: args.data,
        actor: { type: run.actor.type, id: run.actor.id, role },
        context: run.context,
        // The facts as they were when the step was decided; today's for steps recorded without them.
        facts: (before.data.facts as Facts | undefined) ?? step.facts ?? factsFor(unknownTarget(tool.id, args.data), {}, Date.now()),
        run: { id: run.id, runbook: run.runbook, mode: run.mode },
        stepRequiresApproval: before.data.reasons.some((r) => r.kind === 'runbook'),
      });
      const was = withoutUsage(before.data.reasons);
      // A recorded approval exists only where the recorded effect was require_approval (not where a
      // budget or limit turned it into a deny), so only then can the approvers be compared.
      const approvalChanged = after.effect === 'require_approval' && before.data.effect === 'require_approval' && !sameApproval(before.data.approval, after.approval);
      if (after.effect === was.effect && !approvalChanged) continue;
      const key = `${was.effect}→${after.effect}`;
      result.summary[key] = (result.summary[key] ?? 0) + 1;
      if (result.changed.length >= MAX_LISTED_CHANGES) {
        result.truncated = true;
        continue;
      }
      result.changed.push({
        run_id: run.id,
        runbook: run.runbook,
        step_id: step.id,
        tool: step.tool,
        before: was.effect === 'require_approval' && before.data.approval ? { ...was, approval: before.data.approval } : was,
        after: after.approval ? { effect: after.effect, reasons: after.reasons, approval: after.approval } : { effect: after.effect, reasons: after.reasons },
      });
    }
  }
  return result;
}

const RANK: Record<Effect, number> = { allow: 0, require_approval: 1, deny: 2 };

/** A recorded decision without its budget and limit reasons, with the effect the rest gives. */
function withoutUsage(reasons: Reason[]): { effect: Effect; reasons: Reason[] } {
  const kept = reasons.filter((r) => r.kind !== 'budget' && r.kind !== 'limit');
  const effect = kept.reduce<Effect>((acc, r) => (RANK[r.effect] > RANK[acc] ? r.effect : acc), 'allow');
  return { effect, reasons: kept };
}

function sameApproval(a: Decision['approval'], b: Decision['approval']): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}
