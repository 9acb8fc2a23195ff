import type { Run, RunEvent, RunStatus, Step } from './types';

const TERMINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'denied', 'cancelled']);

/** A run in one of these states changes no more: no cancel button, no reconnecting. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.has(status);
}

/** The run with `step` in place of the step of the same id (appended if the plan added it). */
export function withStep(run: Run, step: Step): Run {
  const known = run.steps.some((s) => s.id === step.id);
  const steps = known ? run.steps.map((s) => (s.id === step.id ? step : s)) : [...run.steps, step];
  return { ...run, steps };
}

/**
 * The run with the step as an approve/deny answer returned it — unless the live socket has already
 * moved that step past its approval (the answer can arrive after the events it caused).
 */
export function withReviewedStep(run: Run, step: Step): Run {
  const current = run.steps.find((s) => s.id === step.id);
  return current && current.status !== 'awaiting_approval' ? run : withStep(run, step);
}

/** Folds one live event into the run: its run fields win, and its step replaces the old one. */
export function applyEvent(run: Run, event: RunEvent): Run {
  const next: Run = { ...run, ...event.run };
  return event.step ? withStep(next, event.step) : next;
}
