/**
 * What undoing a run means: which steps are undone (newest first), with which call, and how long
 * a failing undo is retried before a person must look. The engine performs the calls.
 */
import { getTool } from '../tools/catalog';
import type { ToolDef } from '../tools/types';
import { backoffMs } from './backoff';
import type { RunState, StepState } from './types';

/** A compensation that keeps failing is retried this long (from its first attempt), then left to a person. */
export const COMPENSATION_WINDOW_MS = 15 * 60_000;
const COMPENSATION_BACKOFF_MS = 2_000;
const COMPENSATION_MAX_BACKOFF_MS = 60_000;

/** Steps to undo, newest first: mutating steps with an inverse that succeeded, or whose outcome is unknown. */
export function stepsToCompensate(run: Pick<RunState, 'steps'>): string[] {
  return run.steps
    .filter((s) => (s.status === 'succeeded' || s.outcome_unknown) && getTool(s.tool)?.mutating && getTool(s.tool)?.compensation)
    .reverse()
    .map((s) => s.id);
}

export type CompensationCall =
  | { kind: 'call'; tool: ToolDef; args: Record<string, unknown> }
  /** Nothing to undo (the step changed nothing). */
  | { kind: 'nothing'; tool: string }
  /** The inverse cannot be worked out: a person must look. */
  | { kind: 'impossible'; tool: string; why: string };

/** The call that undoes a step, from its arguments and (when known) its result. */
export function compensationCall(step: StepState, result: unknown): CompensationCall {
  const comp = getTool(step.tool)?.compensation;
  if (!comp) return { kind: 'impossible', tool: '?', why: `tool ${step.tool} is no longer in the catalog` };
  const tool = getTool(comp.tool);
  if (!tool) return { kind: 'impossible', tool: comp.tool, why: `its inverse ${comp.tool} is no longer in the catalog` };
  let args: Record<string, unknown> | null;
  try {
    args = comp.args(step.args as never, result as never) as Record<string, unknown> | null;
  } catch (err) {
    const why = step.outcome_unknown ? 'its outcome is unknown, so what to undo cannot be told' : `its arguments could not be derived (${(err as Error).message})`;
    return { kind: 'impossible', tool: tool.id, why };
  }
  return args === null ? { kind: 'nothing', tool: tool.id } : { kind: 'call', tool, args };
}

/** When a failed compensation attempt is tried again, or undefined when it may not be. */
export function nextCompensationAttempt(attempts: number, retryable: boolean, now: number, deadline: number, retryAfterMs?: number): number | undefined {
  if (!retryable) return undefined;
  const next = now + backoffMs(COMPENSATION_BACKOFF_MS, attempts, retryAfterMs, COMPENSATION_MAX_BACKOFF_MS);
  return next < deadline ? next : undefined;
}
