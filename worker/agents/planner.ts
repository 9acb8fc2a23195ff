import type { Runbook } from '../runbooks/types';
import type { ToolDef } from '../tools/types';
import { toolBrief } from './allowed-tools';
import type { AgentError } from './errors';
import { runbookPlan, validatePlan, wirePlanSchema, type ValidatedPlan } from './plan';
import { PLANNER } from './prompts';
import type { Provider } from './provider';
import { dataBlock } from './quote';
import { callAgent, type AgentTrace } from './trace';

/** How an earlier run of the same runbook ended: what the planner may learn from. */
export interface PastRun {
  id: string;
  status: string;
  reason?: string;
  /** Steps that failed or were denied, with why. */
  steps?: Array<{ id: string; tool: string; status: string; error?: string }>;
}

export interface PlannerInput {
  runbook: Runbook;
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  run: { id: string; mode: string; actor?: { type: string; id: string; role: string } };
  /** The tools the policy allows this run's actor (`allowedTools`). */
  allowed: readonly ToolDef[];
  /** The last runs of this runbook, newest first. */
  history?: readonly PastRun[];
  signal?: AbortSignal;
}

export type PlanOutcome = { ok: true; plan: ValidatedPlan; trace: AgentTrace } | { ok: false; error: AgentError; trace: AgentTrace };

/** The runbook as the planner reads it: structure and templates, not the engine's settings. */
function runbookView(runbook: Runbook): unknown {
  return {
    name: runbook.metadata.name,
    description: runbook.metadata.description,
    goal: runbook.spec.goal,
    inputs: runbook.spec.inputs,
    steps: runbook.spec.steps.map((s) => ({ id: s.id, tool: s.tool, description: s.description, if: s.if, with: s.with, approval: s.approval })),
  };
}

/** The planner's one user turn; every outside value is inside a data block. */
export function plannerMessage(input: PlannerInput): string {
  return [
    `Plan the run ${input.run.id} (mode ${input.run.mode}) of the runbook below.`,
    dataBlock('runbook', runbookView(input.runbook)),
    dataBlock('allowed_tools', toolBrief(input.allowed.map((t) => t.id))),
    dataBlock('inputs', input.inputs),
    dataBlock('context', input.context),
    ...(input.history?.length ? [dataBlock('history', input.history.slice(0, 5), 8_000)] : []),
    'Answer with the plan.',
  ].join('\n\n');
}

/**
 * Proposes the run's plan and validates it (`validatePlan`). With the stub provider the plan is
 * the runbook's steps as written, exactly what the engine ran before agents existed.
 */
export async function planRun(provider: Provider, input: PlannerInput): Promise<PlanOutcome> {
  const called = await callAgent('planner', provider, PLANNER, {
    messages: [{ role: 'user', content: plannerMessage(input) }],
    schema: wirePlanSchema,
    schemaName: 'runbook_plan',
    description: 'The plan for this run',
    stub: () => runbookPlan(input.runbook),
    ...(input.signal && { signal: input.signal }),
  });
  if (!called.ok) return called;
  const plan = validatePlan(called.output, {
    runbook: input.runbook,
    allowed: new Set(input.allowed.map((t) => t.id)),
    vars: { inputs: input.inputs, context: input.context, run: { id: input.run.id, runbook: input.runbook.metadata.name, mode: input.run.mode, actor: input.run.actor } },
  });
  return { ok: true, plan, trace: { ...called.trace, output: { ...(called.trace.output as object), hallucinations: plan.hallucinations } } };
}
