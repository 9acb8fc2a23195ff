/**
 * What people do to a run from outside its alarms: review a waiting step, cancel, retry a failed
 * compensation. Each is a transition of the state (committed with its event); the run's object
 * applies it under the lock, superseding any call in flight. Part of the run engine (engine.ts).
 */
import { approvalsFor, approvalsNeeded, reviewRefusal, type Reviewer, type ReviewRefusal } from './approval-rules';
import { stepsToCompensate } from './compensation';
import { compensationRefusal, type Requester } from './compensation-policy';
import type { RunEngine } from './engine';
import type { StepState } from './types';

/** How an event names a reviewer: the person, and the credential when it is not the person. */
function who(r: Reviewer): string {
  return r.person && r.person !== r.id && !r.person.startsWith('key:') ? `${r.person} (${r.id})` : r.id;
}

/**
 * A person's review of a waiting step (the rules are approval-rules.ts). An approval that
 * completes the quorum lets the step run at the next tick; a denial ends it by its `on_failure`.
 */
export async function reviewStep(e: RunEngine, stepId: string, reviewer: Reviewer & { type: string }, verdict: 'approve' | 'deny', comment?: string): Promise<ReviewRefusal | { code: 'not_found'; message: string } | StepState> {
  const run = e.run;
  const step = run.steps.find((s) => s.id === stepId);
  if (!step) return { code: 'not_found', message: `Step ${stepId} not found` };
  const refusal = reviewRefusal(step, reviewer, run.actor, e.host.now());
  if (refusal) {
    // A lapsed request ends now rather than when the alarm comes.
    if (step.status === 'awaiting_approval' && /expired/.test(refusal.message)) await e.failStep(step, 'Approval request expired', 'denied');
    return refusal;
  }
  const actor = { type: reviewer.type, id: reviewer.id };
  const person = reviewer.person ? { person: reviewer.person } : {};
  step.approvals.push({ actor, ...person, role: reviewer.role, verdict, ...(comment ? { comment } : {}), at: e.iso(), args_hash: step.args_hash ?? '' });
  if (verdict === 'deny') {
    await e.failStep(step, `Denied by ${who(reviewer)}${comment ? `: ${comment}` : ''}`, 'denied', actor);
    return step;
  }
  const needed = Math.max(1, approvalsNeeded(step.decision));
  const given = approvalsFor(step.approvals, step.args_hash);
  if (given >= needed) {
    step.status = 'pending';
    step.approval_expires_at = undefined;
    run.status = 'running';
  }
  await e.host.commit([{ type: 'step.approved', step: step.id, actor, message: `Approved by ${who(reviewer)} (${given}/${needed})${comment ? `: ${comment}` : ''}` }]);
  return step;
}

/** A refusal of a person's request, with nothing changed. */
export interface Refusal {
  code: 'forbidden';
  message: string;
}

/** A step whose call may be under way (it may have acted): a cancel marks its outcome unknown. */
const inFlight = (s: StepState) => s.status === 'running' && s.attempts > 0 && s.tool !== 'core.wait';

/**
 * Stops the run at once: nothing further starts. A step whose call may be in flight is marked
 * `outcome_unknown` (it may have acted); with `compensate`, what completed — or may have — is
 * undone, newest first, before the run ends `cancelled`. The undoing is decided by the policy with
 * the canceller as actor first (compensation-policy.ts): a refusal changes nothing.
 */
export async function cancelRun(e: RunEngine, actor: Requester, compensate: boolean): Promise<Refusal | undefined> {
  const run = e.run;
  const reason = `Cancelled by ${actor.id}`;
  if (compensate && run.compensate.length === 0) {
    const planned = stepsToCompensate({ steps: run.steps.map((s) => (inFlight(s) ? { ...s, outcome_unknown: true } : s)) });
    const refused = await compensationRefusal(e, actor, planned);
    if (refused) return { code: 'forbidden', message: refused };
  }
  for (const s of run.steps) {
    if (inFlight(s)) {
      s.status = 'failed';
      s.outcome_unknown = true;
      s.error = `Cancelled while attempt ${s.attempts} was under way; whether it acted is unknown${s.error ? ` (the previous attempt failed: ${s.error})` : ''}`;
      s.wake_at = undefined;
      s.ended_at = e.iso();
    } else if (s.status === 'pending' || s.status === 'awaiting_approval' || s.status === 'running') {
      s.status = 'skipped';
      s.wake_at = undefined;
    }
  }
  run.cursor = run.steps.length;
  // A cancel during compensation lets the undoing finish: stopping half-way would leave more changed.
  if (compensate && run.compensate.length === 0) e.queueCompensation();
  if (run.compensate.length > 0) {
    run.status = 'running';
    run.reason = reason;
    run.outcome = 'cancelled';
    await e.host.commit([{ type: 'run.compensating', actor: { type: actor.type, id: actor.id }, message: `${reason}; compensating ${run.compensate.join(', ')}` }], { allSteps: true });
    return undefined;
  }
  await e.finish('cancelled', reason, [], { type: actor.type, id: actor.id });
  return undefined;
}

/** An sre asks for the failed compensations of a finished run to be tried again; decided with them as actor. */
export async function retryCompensation(e: RunEngine, actor: Requester): Promise<Refusal | boolean> {
  const run = e.run;
  const failed = run.compensation_failed ?? [];
  if (failed.length === 0) return false;
  const refused = await compensationRefusal(e, actor, failed);
  if (refused) return { code: 'forbidden', message: refused };
  for (const id of failed) {
    const step = run.steps.find((s) => s.id === id);
    // A new attempt (a new key: the last one's failure must not be replayed), with a new window.
    if (step?.compensation) step.compensation = { ...step.compensation, status: 'pending', next_at: e.iso(), deadline_at: undefined };
  }
  run.outcome = run.status;
  run.compensate = [...failed];
  run.compensation_failed = undefined;
  run.status = 'running';
  run.ended_at = undefined;
  await e.host.commit([{ type: 'run.compensating', actor: { type: actor.type, id: actor.id }, message: `Compensation retried by ${actor.id}: ${failed.join(', ')}` }], { allSteps: true });
  return true;
}

