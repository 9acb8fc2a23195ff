import { z } from 'zod';
import type { Decision, Effect, Reason } from '../policy/decide';
import type { ApprovalRequirement } from '../policy/schema';
import { getTool } from '../tools/catalog';
import { toolBrief } from './allowed-tools';
import type { AgentError } from './errors';
import { REVIEWER } from './prompts';
import type { Provider } from './provider';
import { dataBlock } from './quote';
import { callAgent, type AgentTrace } from './trace';

export const reviewSchema = z.object({
  verdict: z.enum(['ok', 'require_approval', 'deny']),
  reason: z.string().min(1).max(1_000),
});

export type Review = z.infer<typeof reviewSchema>;

export interface ReviewInput {
  runbook: { name: string; goal?: string };
  step: { id: string; tool: string; args: Record<string, unknown> };
  /** The deterministic policy decision for this exact call. */
  decision: Decision;
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  /** Results of the steps so far, by step id. */
  results?: Record<string, unknown>;
  signal?: AbortSignal;
}

export type ReviewOutcome = { ok: true; review: Review; trace: AgentTrace } | { ok: false; error: AgentError; trace: AgentTrace };

/** The stub reviewer has no objection: the deterministic policy alone decides, as before agents existed. */
const STUB_REVIEW: Review = { verdict: 'ok', reason: 'No objection (deterministic stub reviewer)' };

/** Reviews one concrete call. Pair the answer with the policy's decision through `tighten`, never on its own. */
export async function reviewCall(provider: Provider, input: ReviewInput): Promise<ReviewOutcome> {
  const tool = getTool(input.step.tool);
  const called = await callAgent(
    'reviewer',
    provider,
    REVIEWER,
    {
      messages: [
        {
          role: 'user',
          content: [
            `Review step "${input.step.id}" of runbook "${input.runbook.name}" before it runs.`,
            ...(input.runbook.goal ? [dataBlock('goal', input.runbook.goal)] : []),
            ...(tool ? [dataBlock('tool', toolBrief([tool.id])[0])] : []),
            dataBlock('call', { step: input.step.id, tool: input.step.tool, args: input.step.args }),
            dataBlock('policy_decision', { effect: input.decision.effect, reasons: input.decision.reasons.map((r) => r.message) }),
            dataBlock('inputs_and_context', { inputs: input.inputs, context: input.context }),
            ...(input.results ? [dataBlock('results', input.results, 12_000)] : []),
            'Answer with your verdict.',
          ].join('\n\n'),
        },
      ],
      schema: reviewSchema,
      schemaName: 'review',
      description: 'Your verdict on this call',
      stub: () => STUB_REVIEW,
      ...(input.signal && { signal: input.signal }),
    },
    input.step.id,
  );
  return called.ok ? { ok: true, review: called.output, trace: called.trace } : called;
}

/** A reviewer's reason in a decision. `Reason['kind']` needs `'reviewer'` for this to be stored as a plain `Decision`. */
export type ReviewerReason = Omit<Reason, 'kind'> & { kind: 'reviewer' };
export type ReviewedDecision = Omit<Decision, 'reasons'> & { reasons: Array<Reason | ReviewerReason> };

const RANK: Record<Effect, number> = { allow: 0, require_approval: 1, deny: 2 };
const VERDICT_EFFECT: Record<Review['verdict'], Effect> = { ok: 'allow', require_approval: 'require_approval', deny: 'deny' };

/** Who approves a call only the reviewer flagged: the policy's default approvers, never the requester. */
export const REVIEWER_APPROVAL: ApprovalRequirement = { roles: ['sre', 'admin'], count: 1, distinct_from_requester: true };

/**
 * Combines the policy's decision with a review. The result is never weaker than the decision: the
 * effect is the stronger of the two, and an approval the policy asked for is kept as it was. A
 * review can add a denial or an approval; it cannot remove either.
 */
export function tighten(decision: Decision, review: Review): ReviewedDecision {
  const wanted = VERDICT_EFFECT[review.verdict];
  const effect = RANK[wanted] > RANK[decision.effect] ? wanted : decision.effect;
  const reason: ReviewerReason = { kind: 'reviewer', name: 'reviewer', effect: wanted, message: `Reviewer: ${review.reason}` };
  const reasons = [...decision.reasons, reason];
  if (effect !== 'require_approval') return { effect, reasons };
  return { effect, reasons, approval: decision.approval ?? REVIEWER_APPROVAL };
}
