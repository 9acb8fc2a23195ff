import { z } from 'zod';
import { evalCondition, hasTemplate, type CelVars } from '../cel';
import { MAX_RUNBOOK_STEPS } from '../runbooks/schema';
import type { Runbook, RunbookStep } from '../runbooks/types';
import { getTool, toolIds } from '../tools/catalog';
import { didYouMean } from '../yaml/did-you-mean';
import { MAX_ADDED_STEPS } from './prompts';

/**
 * The plan as a model writes it. Arguments travel as a JSON string because OpenAI's strict mode
 * cannot express a free-form object; they are decoded and checked against the tool here.
 */
export const wirePlanSchema = z.object({
  steps: z
    .array(
      z.object({
        id: z.string().describe('The runbook step id, or a new id for an added diagnostic step'),
        tool: z.string().describe('A tool id, e.g. "k8s.get_node"'),
        args_json: z.string().describe('The arguments as a JSON object in a string; "{}" for a runbook step'),
        reason: z.string().describe('One sentence: why this step is in the plan'),
        from_runbook_step: z.string().optional().describe('The runbook step id this step is; absent for an added step'),
      }),
    )
    // A plan is the runbook's steps plus the diagnostics the planner may add: any smaller cap fails
    // every long runbook at planning, even with the stub (it was 60 while runbooks took 100).
    .max(MAX_RUNBOOK_STEPS + MAX_ADDED_STEPS),
});

export type WirePlan = z.infer<typeof wirePlanSchema>;

export interface PlannedStep {
  id: string;
  tool: string;
  /** A runbook step keeps its templated `with` (resolved when it comes up); an added step has concrete arguments. */
  args: Record<string, unknown>;
  reason: string;
  from_runbook_step?: string;
}

export type RejectionKind =
  | 'unknown_tool'
  | 'tool_not_allowed'
  | 'mutating_addition'
  | 'invalid_args'
  | 'runbook_mismatch'
  | 'duplicate_step'
  | 'too_many_additions'
  | 'omitted_step'
  | 'reordered_step';

/** A part of the model's plan that was refused (never executed) or corrected, and why. */
export interface PlanRejection {
  kind: RejectionKind;
  step_id: string;
  tool: string;
  reason: string;
}

export interface ValidatedPlan {
  steps: PlannedStep[];
  /** Runbook steps left out because their `if` is already false before the run starts. */
  skipped: Array<{ id: string; reason: string }>;
  hallucinations: PlanRejection[];
}

export interface PlanContext {
  runbook: Runbook;
  /** Tool ids the policy allows the run's actor. */
  allowed: ReadonlySet<string>;
  /** `inputs`, `context` and `run`, as the runbook's expressions see them before any step ran. */
  vars: CelVars;
}

const STEP_ID = /^[a-z][a-z0-9_-]{0,62}$/;
const MAX_REASON = 500;

/** Whether a runbook step's `if` is false before the run starts; undefined when it cannot be known yet. */
function falseBeforeStart(step: RunbookStep, vars: CelVars): boolean {
  if (step.if === undefined) return false;
  try {
    return !evalCondition(step.if, { ...vars, steps: {} });
  } catch {
    return false; // reads results of earlier steps: decided when the step comes up
  }
}

function decodeArgs(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'args_json is not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'args_json must encode a JSON object';
  if (hasTemplate(value)) return 'an added step takes concrete values, not ${{ }} templates';
  return value as Record<string, unknown>;
}

/**
 * Checks a model's plan against the runbook, the catalog and the allowed tools. The runbook stays
 * authoritative: its steps keep their order, tools and templated arguments, and a step the model
 * dropped comes back unless its `if` is already false. Additions must be allowed, read-only tools
 * with valid arguments. Everything refused is listed in `hallucinations` and never executed.
 */
export function validatePlan(proposal: WirePlan, ctx: PlanContext): ValidatedPlan {
  const rbSteps = ctx.runbook.spec.steps;
  const byId = new Map(rbSteps.map((s, i) => [s.id, { step: s, idx: i }]));
  const rejected: PlanRejection[] = [];
  // Ids and tool names are the model's: clipped, so a record cannot be used to carry a payload.
  const reject = (kind: RejectionKind, step_id: string, tool: string, reason: string) =>
    rejected.push({ kind, step_id: step_id.slice(0, 100), tool: tool.slice(0, 100), reason: reason.slice(0, 1_000) });
  const used = new Map<string, string>(); // runbook step id → the model's reason
  const addedIds = new Set<string>();
  /** Additions, keyed by the runbook step they come before (undefined: after the last one). */
  const anchored = new Map<string | undefined, PlannedStep[]>();
  let pending: PlannedStep[] = [];
  let lastIdx = -1;
  let outOfOrder: RunbookStep | undefined;

  for (const p of proposal.steps) {
    const rb = byId.get(p.from_runbook_step ?? p.id);
    if (rb) {
      if (used.has(rb.step.id)) {
        reject('duplicate_step', p.id, p.tool, `Runbook step "${rb.step.id}" appears more than once; it runs once`);
        continue;
      }
      if (p.tool !== rb.step.tool) {
        reject('runbook_mismatch', p.id, p.tool, `Runbook step "${rb.step.id}" uses ${rb.step.tool}, not ${p.tool}; the runbook's tool is kept`);
        continue;
      }
      if (rb.idx < lastIdx) outOfOrder ??= rb.step;
      lastIdx = Math.max(lastIdx, rb.idx);
      used.set(rb.step.id, p.reason.slice(0, MAX_REASON));
      anchored.set(rb.step.id, [...(anchored.get(rb.step.id) ?? []), ...pending]);
      pending = [];
      continue;
    }
    if (p.from_runbook_step !== undefined) {
      reject('runbook_mismatch', p.id, p.tool, `The runbook has no step "${p.from_runbook_step}"`);
      continue;
    }
    const tool = getTool(p.tool);
    if (!tool) {
      reject('unknown_tool', p.id, p.tool, `Unknown tool "${p.tool}"${didYouMean(p.tool, toolIds())}`);
      continue;
    }
    if (!ctx.allowed.has(tool.id)) {
      reject('tool_not_allowed', p.id, p.tool, `The policy does not allow ${tool.id} for this run's actor`);
      continue;
    }
    if (tool.mutating) {
      reject('mutating_addition', p.id, p.tool, `${tool.id} changes things; a planner may add read-only steps only`);
      continue;
    }
    if (!STEP_ID.test(p.id) || byId.has(p.id) || addedIds.has(p.id)) {
      reject('duplicate_step', p.id, p.tool, `Step id "${p.id}" is invalid or already taken`);
      continue;
    }
    if (addedIds.size >= MAX_ADDED_STEPS) {
      reject('too_many_additions', p.id, p.tool, `At most ${MAX_ADDED_STEPS} steps may be added to a runbook`);
      continue;
    }
    const args = decodeArgs(p.args_json);
    if (typeof args === 'string') {
      reject('invalid_args', p.id, p.tool, `Arguments for ${tool.id} are invalid: ${args}`);
      continue;
    }
    const parsed = tool.args.safeParse(args);
    if (!parsed.success) {
      reject('invalid_args', p.id, p.tool, `Arguments for ${tool.id} are invalid: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
      continue;
    }
    addedIds.add(p.id);
    pending.push({ id: p.id, tool: tool.id, args: parsed.data as Record<string, unknown>, reason: p.reason.slice(0, MAX_REASON) });
  }
  anchored.set(undefined, pending);
  if (outOfOrder) {
    reject('reordered_step', outOfOrder.id, outOfOrder.tool, `The plan reorders the runbook (${[...used.keys()].join(', ')}); runbook steps keep the runbook's order`);
  }

  const steps: PlannedStep[] = [];
  const skipped: ValidatedPlan['skipped'] = [];
  for (const step of rbSteps) {
    steps.push(...(anchored.get(step.id) ?? []));
    const reason = used.get(step.id);
    if (reason === undefined && falseBeforeStart(step, ctx.vars)) {
      skipped.push({ id: step.id, reason: `Condition is false: ${step.if}` });
      continue;
    }
    if (reason === undefined) reject('omitted_step', step.id, step.tool, `The plan left out runbook step "${step.id}"; runbook steps are kept`);
    steps.push({ id: step.id, tool: step.tool, args: step.with, reason: reason ?? step.description ?? 'Runbook step', from_runbook_step: step.id });
  }
  steps.push(...(anchored.get(undefined) ?? []));
  return { steps, skipped, hallucinations: rejected };
}

/**
 * The engine's view of a planned step: a runbook step is the runbook's own (retry, timeout,
 * verify, approval and all); an added diagnostic step runs once, without approval of its own, and
 * its failure does not stop the run (`on_failure: continue`): it only informs.
 */
export function stepSpec(step: PlannedStep, runbook: Runbook): RunbookStep {
  const own = step.from_runbook_step !== undefined ? runbook.spec.steps.find((s) => s.id === step.from_runbook_step) : undefined;
  if (own) return own;
  return { id: step.id, tool: step.tool, description: step.reason, with: step.args, retry: { attempts: 1, backoff_ms: 0 }, on_failure: 'continue' };
}

/** The stub planner's answer: the runbook's steps, in order, as written — the plan the engine always ran. */
export function runbookPlan(runbook: Runbook): WirePlan {
  return {
    steps: runbook.spec.steps.map((s) => ({ id: s.id, tool: s.tool, args_json: '{}', reason: s.description ?? 'Runbook step', from_runbook_step: s.id })),
  };
}
