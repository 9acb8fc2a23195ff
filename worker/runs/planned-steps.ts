import { stepSpec, type ValidatedPlan } from '../agents';
import type { RunbookStep } from '../runbooks/types';
import type { Hallucination, RunState, StepState } from './types';

export interface PlannedSteps {
  /** The run's steps in the order they will be worked on; `idx` is each one's position. */
  steps: StepState[];
  /** Runbook steps the plan leaves out because their `if` is already false, with why. */
  skipped: Array<{ id: string; reason: string }>;
  hallucinations: Hallucination[];
}

function pending(id: string, tool: string): StepState {
  return { id, idx: 0, tool, status: 'pending', attempts: 0, approvals: [] };
}

/**
 * The run's step list once a validated plan is applied. Runbook steps keep their state (a plan
 * applied again after a crash changes nothing) and their runbook order; a step the planner added
 * carries its own spec, since the runbook has none; a step the plan skips stays in the list as
 * `skipped`, so the run shows every runbook step and what became of it.
 */
export function plannedSteps(run: RunState, plan: ValidatedPlan, at: string): PlannedSteps {
  const runbook = run.spec.spec.steps;
  const existing = new Map(run.steps.map((s) => [s.id, s]));
  const position = new Map(runbook.map((s, i) => [s.id, i]));
  const skippedWhy = new Map(plan.skipped.map((s) => [s.id, s.reason]));
  const steps: StepState[] = [];
  let next = 0; // the first runbook step not placed yet

  const placeSkippedBefore = (end: number) => {
    for (; next < end; next++) {
      const rb: RunbookStep = runbook[next]!;
      const reason = skippedWhy.get(rb.id);
      if (reason === undefined) continue;
      const step = existing.get(rb.id) ?? pending(rb.id, rb.tool);
      step.status = 'skipped';
      step.ended_at = at;
      step.plan = { reason };
      steps.push(step);
    }
  };

  // An added step comes right before the runbook step it informs, after any skipped ones between.
  let added: StepState[] = [];
  for (const planned of plan.steps) {
    const from = planned.from_runbook_step;
    if (from === undefined) {
      added.push({ ...pending(planned.id, planned.tool), plan: { reason: planned.reason, added: true, spec: stepSpec(planned, run.spec) } });
      continue;
    }
    const i = position.get(from)!;
    placeSkippedBefore(i);
    next = Math.max(next, i + 1);
    const step = existing.get(from) ?? pending(from, planned.tool);
    step.plan = { reason: planned.reason };
    steps.push(...added, step);
    added = [];
  }
  placeSkippedBefore(runbook.length);
  steps.push(...added);
  steps.forEach((s, idx) => (s.idx = idx));

  const hallucinations: Hallucination[] = plan.hallucinations.map((h) => ({ agent: 'planner', kind: h.kind, step_id: h.step_id, tool: h.tool, reason: h.reason, at }));
  return { steps, skipped: plan.skipped, hallucinations };
}
