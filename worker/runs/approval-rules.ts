/**
 * Who may review a waiting step, and when enough have. The one place these rules live: the run's
 * object applies them to a review, the approvals inbox to what it lists, the engine to whether a
 * step may run.
 */
import { personKey, samePerson, type Party } from '../auth/person';
import type { Decision } from '../policy/decide';
import type { ApprovalRecord, StepState } from './types';

export interface Reviewer {
  /** The credential's identity (an API key, an OIDC subject). */
  id: string;
  /** The person behind it (DESIGN §14): duties and quorum compare this. */
  person?: string;
  role: string;
  /** Whether the caller's role may approve at all under the active policy. */
  canApprove: boolean;
}

export type ReviewRefusal = { code: 'conflict' | 'forbidden'; message: string };

/** Who gave an approval, as a party duties compare (approvals from before persons carry only the credential). */
const approver = (a: ApprovalRecord): Party => ({ id: a.actor.id, ...(a.person ? { person: a.person } : {}) });

/**
 * Approvals given to exactly these arguments (an approval of other arguments does not count), one
 * per person: a person who approved with two credentials counts once.
 */
export function approvalsFor(approvals: readonly ApprovalRecord[], argsHash: string | undefined): number {
  return new Set(approvals.filter((a) => a.verdict === 'approve' && a.args_hash === (argsHash ?? '')).map((a) => personKey(approver(a)))).size;
}

/** How many approvals the decision asks for (none when it does not ask). */
export function approvalsNeeded(decision: Decision | undefined): number {
  return decision?.effect === 'require_approval' ? (decision.approval?.count ?? 1) : 0;
}

/**
 * Whether the reviewer may review this step; nothing when they may. `requester` is who started the
 * run (the credential, and the person when recorded); `now` the server's clock.
 */
export function reviewRefusal(step: Pick<StepState, 'id' | 'status' | 'approval_expires_at' | 'decision' | 'approvals' | 'args_hash'>, reviewer: Reviewer, requester: Party, now: number): ReviewRefusal | undefined {
  if (step.status !== 'awaiting_approval') return { code: 'conflict', message: `Step ${step.id} is ${step.status}, not awaiting approval` };
  if (step.approval_expires_at && now >= Date.parse(step.approval_expires_at)) {
    return { code: 'conflict', message: `The approval request for step ${step.id} expired at ${step.approval_expires_at}` };
  }
  const who = mayReview(step.decision, reviewer, requester);
  if (who) return who;
  const earlier = step.approvals.find((a) => a.args_hash === (step.args_hash ?? '') && samePerson(approver(a), reviewer));
  if (earlier) {
    const how = earlier.actor.id === reviewer.id ? '' : ` (as ${reviewer.person ?? reviewer.id}, with another credential)`;
    return { code: 'conflict', message: `You have already reviewed this step${how}` };
  }
  return undefined;
}

/** Whether this person already reviewed these arguments (the inbox leaves such steps out). */
export function reviewedBy(approvals: readonly ApprovalRecord[], argsHash: string, reviewer: Party): boolean {
  return approvals.some((a) => a.args_hash === argsHash && samePerson(approver(a), reviewer));
}

/** The role and duty rules alone (the inbox lists a step only to those who pass them). */
export function mayReview(decision: Decision | undefined, reviewer: Reviewer, requester: Party): ReviewRefusal | undefined {
  const req = decision?.approval;
  if (!reviewer.canApprove || (req && !req.roles.includes(reviewer.role))) {
    const roles = req ? req.roles.join(', ') : 'an approver role';
    return { code: 'forbidden', message: `Role "${reviewer.role}" may not review this step (needs ${roles})` };
  }
  // One person with two keys, or a key and a browser session, is one person.
  if (req?.distinct_from_requester && samePerson(reviewer, requester)) {
    return { code: 'forbidden', message: 'The policy requires an approver other than the person who started the run' };
  }
  return undefined;
}
