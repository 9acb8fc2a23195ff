import type { Hallucination, RunView } from '../runs/types';
import { TERMINAL_RUN } from '../runs/types';
import { align, type ActualStep, type AlignedStep } from './align';
import type { ShadowExpectation } from './expectation';
import { SCORING, catalogWeight, scoreAlignment, type ExtraWeight, type PlanScore } from './score';

/** Something the agent's run did or proposed that the policy refuses. */
export interface PolicyViolation {
  step: string;
  tool: string;
  /** `denied`: the policy denies the planned call; `refused`: a proposal outside what the policy allows, never planned. */
  kind: 'denied' | 'refused';
  message: string;
}

/** `GET /runs/{id}/shadow`: a shadow run compared with what was expected of it. */
export interface ShadowReport {
  run_id: string;
  run_status: RunView['status'];
  /** The run has ended: the comparison will not change any more. */
  complete: boolean;
  source: ShadowExpectation['source'];
  reference_run?: string;
  score: number;
  exact: boolean;
  summary: PlanScore['summary'];
  steps: AlignedStep[];
  violations: PolicyViolation[];
  /** What the agents proposed that was refused or corrected (never executed). */
  hallucinations: Hallucination[];
  scoring: typeof SCORING;
}

/** Planner refusals that are the policy's (as opposed to unknown tools or bad arguments). */
const POLICY_REFUSALS = new Set(['tool_not_allowed', 'mutating_addition']);

/** The agent's plan as the run holds it: every step except those it left out (`skipped`). */
export function planOf(run: Pick<RunView, 'steps'>): ActualStep[] {
  return run.steps.filter((s) => s.status !== 'skipped').map((s) => ({ id: s.id, tool: s.tool, args: s.args, status: s.status }));
}

export function violationsOf(run: Pick<RunView, 'steps' | 'hallucinations'>): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  for (const s of run.steps) {
    if (s.decision?.effect !== 'deny') continue;
    const why = s.decision.reasons.filter((r) => r.effect === 'deny').map((r) => r.message);
    out.push({ step: s.id, tool: s.tool, kind: 'denied', message: why.join('; ') || 'Denied by the policy' });
  }
  for (const h of run.hallucinations ?? []) {
    if (POLICY_REFUSALS.has(h.kind)) out.push({ step: h.step_id, tool: h.tool, kind: 'refused', message: h.reason });
  }
  return out;
}

/**
 * Compares a run with its expectation. Arguments are compared strictly against a reference run
 * (it names every argument it used) and by the fields named otherwise (see `compareArgs`).
 */
export function shadowReport(run: Pick<RunView, 'id' | 'status' | 'steps' | 'hallucinations'>, expectation: ShadowExpectation, extraWeight: ExtraWeight = catalogWeight): ShadowReport {
  const steps = align(expectation.expected, planOf(run), { strict: expectation.source === 'reference_run' });
  const { score, exact, summary } = scoreAlignment(steps, extraWeight);
  return {
    run_id: run.id,
    run_status: run.status,
    complete: TERMINAL_RUN.has(run.status),
    source: expectation.source,
    ...(expectation.reference_run !== undefined && { reference_run: expectation.reference_run }),
    score,
    exact,
    summary,
    steps,
    violations: violationsOf(run),
    hallucinations: run.hallucinations ?? [],
    scoring: SCORING,
  };
}
