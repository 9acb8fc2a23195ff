/**
 * Undoing a run's changes, one step at a time, newest first (what is undone and how: compensation.ts).
 * Part of the run engine (engine.ts).
 */
import { COMPENSATION_WINDOW_MS, compensationCall, nextCompensationAttempt } from './compensation';
import type { PendingEvent, RunEngine, Wake } from './engine';
import type { StepState } from './types';

/**
 * One attempt at undoing the next step in the queue. A retryable failure is tried again with
 * backoff (each attempt its own key) until the window closes; then, or on a failure that no retry
 * can mend, the step is left for a person and the queue moves on. Returns when to be woken when
 * the next attempt must wait.
 */
export async function compensateNext(e: RunEngine): Promise<Wake> {
  const run = e.run;
  const step = run.steps.find((s) => s.id === run.compensate[0])!;
  const now = e.host.now();
  const pending = step.compensation?.status === 'pending' ? step.compensation : undefined;
  if (pending?.next_at && now < Date.parse(pending.next_at)) return Date.parse(pending.next_at);
  const call = compensationCall(step, step.outcome_unknown ? await e.lateResult(step) : await e.resultOf(step));
  if (call.kind === 'nothing') {
    step.compensation = { tool: call.tool, args: null, status: 'skipped', result: 'nothing to undo' };
    return compensated(e, step, { type: 'step.compensation_skipped', step: step.id, message: `${step.tool} changed nothing; nothing to undo` });
  }
  if (call.kind === 'impossible') {
    step.compensation = { tool: call.tool, args: null, status: 'failed', error: `Cannot undo: ${call.why}` };
    return compensated(e, step, { type: 'step.compensation_failed', step: step.id, message: `Cannot undo ${step.id}: ${call.why}; a person must check it` });
  }
  // An attempt started before a restart (no backoff set) is delivered again under its own key.
  const redeliver = pending?.attempts !== undefined && pending.next_at === undefined;
  const attempts = redeliver ? pending.attempts! : (pending?.attempts ?? 0) + 1;
  const deadline = pending?.deadline_at ? Date.parse(pending.deadline_at) : now + COMPENSATION_WINDOW_MS;
  if (!redeliver) {
    step.compensation = { tool: call.tool.id, args: call.args, status: 'pending', attempts, deadline_at: e.iso(deadline) };
    await e.host.commit([{ type: 'step.compensating', step: step.id, message: `${call.tool.id} attempt ${attempts}` }]);
  }
  const outcome = await e.call(
    {
      tool: call.tool,
      args: call.args,
      idempotencyKey: `${run.id}:${step.id}:compensate:${attempts}`,
      effectKey: `${run.id}:${step.id}:compensate`,
      stepId: step.id,
      mode: run.integrationMode,
      fresh: !redeliver,
    },
    deadline,
  );
  if (outcome.ok) {
    step.compensation = { tool: call.tool.id, args: call.args, status: 'succeeded', result: outcome.result, attempts };
    step.status = 'compensated';
    return compensated(e, step, { type: 'step.compensated', step: step.id, message: `Undone with ${call.tool.id}` });
  }
  const next = nextCompensationAttempt(attempts, outcome.retryable, e.host.now(), deadline, outcome.retryAfterMs);
  if (next !== undefined) {
    step.compensation = { tool: call.tool.id, args: call.args, status: 'pending', attempts, deadline_at: e.iso(deadline), error: outcome.error, next_at: e.iso(next) };
    await e.host.commit([{ type: 'step.compensation_retrying', step: step.id, message: `${call.tool.id} attempt ${attempts} failed: ${outcome.error}; retrying in ${next - e.host.now()} ms` }]);
    return next;
  }
  step.compensation = { tool: call.tool.id, args: call.args, status: 'failed', error: outcome.error, attempts };
  return compensated(e, step, { type: 'step.compensation_failed', step: step.id, message: `${call.tool.id} failed after ${attempts} attempt(s): ${outcome.error}; a person must check it` });
}

/** The step's undoing is over (done, nothing to do, or failed for good): on to the next, or the end. */
export async function compensated(e: RunEngine, step: StepState, event: PendingEvent): Promise<undefined> {
  const run = e.run;
  run.compensate.shift();
  if (step.compensation?.status === 'failed') run.compensation_failed = [...new Set([...(run.compensation_failed ?? []), step.id])];
  if (run.compensate.length > 0) {
    await e.host.commit([event]);
    return undefined;
  }
  const failed = run.compensation_failed ?? [];
  const reason = failed.length > 0 ? `compensation_failed: ${failed.join(', ')} could not be undone (${run.reason ?? 'run stopped'})` : run.reason;
  await e.finish(run.outcome ?? 'failed', reason, [event]);
  return undefined;
}

