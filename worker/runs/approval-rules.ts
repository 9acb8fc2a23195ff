/**
 * Who may review a waiting step, and when enough have. The one place these rules live: the run's
 * object applies them to a review, the approvals inbox to what it lists, the engine to whether a
 * step may run.
 */
import type { Decision } from '../policy/decide';
import type { ApprovalRecord, StepState } from './types';

export interface Reviewer {
  /** The credential's identity (an API key, an OIDC subject). */
  id: string;
  role: string;
  /** Whether the caller's role may approve at all under the active policy. */
  canApprove: boolean;
}

export type ReviewRefusal = { code: 'conflict' | 'forbidden'; message: string };

/** Approvals given to exactly these arguments (an approval of other arguments does not count). */
export function approvalsFor(approvals: readonly ApprovalRecord[], argsHash: string | undefined): number {
  return approvals.filter((a) => a.verdict === 'approve' && a.args_hash === (argsHash ?? '')).length;
}

/** How many approvals the decision asks for (none when it does not ask). */
export function approvalsNeeded(decision: Decision | undefined): number {
  return decision?.effect === 'require_approval' ? (decision.approval?.count ?? 1) : 0;
}

/**
 * Whether the reviewer may review this step; nothing when they may. `requester` is who started the
 * run; `now` the server's clock.
 */
export function reviewRefusal(step: Pick<StepState, 'id' | 'status' | 'approval_expires_at' | 'decision' | 'approvals' | 'args_hash'>, reviewer: Reviewer, requester: string, now: number): ReviewRefusal | undefined {
  if (step.status !== 'awaiting_approval') return { code: 'conflict', message: `Step ${step.id} is ${step.status}, not awaiting approval` };
  if (step.approval_expires_at && now >= Date.parse(step.approval_expires_at)) {
    return { code: 'conflict', message: `The approval request for step ${step.id} expired at ${step.approval_expires_at}` };
  }
  const who = mayReview(step.decision, reviewer, requester);
  if (who) return who;
  if (step.approvals.some((a) => a.actor.id === reviewer.id && a.args_hash === (step.args_hash ?? ''))) {
    return { code: 'conflict', message: 'You have already reviewed this step' };
  }
  return undefined;
}

/** The role and duty rules alone (the inbox lists a step only to those who pass them). */
export function mayReview(decision: Decision | undefined, reviewer: Reviewer, requester: string): ReviewRefusal | undefined {
  const req = decision?.approval;
  if (!reviewer.canApprove || (req && !req.roles.includes(reviewer.role))) {
    const roles = req ? req.roles.join(', ') : 'an approver role';
    return { code: 'forbidden', message: `Role "${reviewer.role}" may not review this step (needs ${roles})` };
  }
  if (req?.distinct_from_requester && reviewer.id === requester) {
    return { code: 'forbidden', message: 'The policy requires an approver other than the person who started the run' };
  }
  return undefined;
}
