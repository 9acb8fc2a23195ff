import type { AgentTrace, Review } from '../agents';
import type { Decision } from '../policy/decide';
import type { Policy } from '../policy/schema';
import type { Runbook, RunbookStep } from '../runbooks/types';
import type { IntegrationMode, ToolOperation } from '../tools/types';
import type { ResultRef } from './results';

export type RunMode = 'execute' | 'dry_run' | 'shadow';
export type RunStatus = 'queued' | 'planning' | 'running' | 'awaiting_approval' | 'succeeded' | 'failed' | 'denied' | 'cancelled';
export type StepStatus =
  | 'pending'
  | 'awaiting_approval'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'denied'
  | 'simulated'
  | 'compensated';

export const TERMINAL_RUN: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'denied', 'cancelled']);

export interface Actor {
  type: string;
  id: string;
  role: string;
  /** The person behind the credential (DESIGN §14); absent on runs from before persons were recorded. */
  person?: string;
}

export interface ApprovalRecord {
  actor: { type: string; id: string };
  /** Who approved, as a person (DESIGN §14); absent on approvals from before persons were recorded. */
  person?: string;
  role: string;
  verdict: 'approve' | 'deny';
  comment?: string;
  at: string;
  args_hash: string;
}

export interface StepState {
  id: string;
  idx: number;
  tool: string;
  status: StepStatus;
  args?: Record<string, unknown>;
  args_hash?: string;
  /** The result, when small; a large one is out of line (`result_ref`). */
  result?: unknown;
  /** Where a large result is, with its size, digest and a preview (results.ts). */
  result_ref?: ResultRef;
  error?: string;
  /**
   * The run was cancelled while this step's call was in flight: whether it acted is not known.
   * Such a step is considered for compensation like one that succeeded.
   */
  outcome_unknown?: true;
  decision?: Decision;
  attempts: number;
  integration_mode?: IntegrationMode;
  operations?: ToolOperation[];
  approvals: ApprovalRecord[];
  /** When the approval request lapses (from the policy's `expires_in`). */
  approval_expires_at?: string;
  started_at?: string;
  ended_at?: string;
  /** Absolute deadline of the whole step, from its `timeout`. */
  deadline_at?: string;
  /** A durable sleep (`core.wait`) or a retry backoff ends at this time. */
  wake_at?: string;
  compensation?: Compensation;
  /** What the planner said about this step; `spec` only for a step it added (the runbook has none). */
  plan?: { reason: string; added?: true; spec?: RunbookStep };
  /**
   * The agents' answers for this step, kept so that preparing it again (after an approval, a
   * restart) asks no model twice: a second answer could differ, change the arguments and void the
   * approval, and would be paid for twice. The toolcaller's arguments hold while the
   * template-resolved arguments hash to `template_hash`; the review while the final arguments
   * hash to its `args_hash`.
   */
  agent?: {
    args?: { template_hash: string; args: Record<string, unknown> };
    review?: { args_hash: string; review: Review };
  };
}

/** The undoing of a step: retried with backoff until its deadline, then `failed` for a person to look at. */
export interface Compensation {
  tool: string;
  args: Record<string, unknown> | null;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped';
  result?: unknown;
  error?: string;
  /** Attempts made (each with its own idempotency key, `…:compensate:<n>`). */
  attempts?: number;
  /** The next attempt is not before this (a backoff). */
  next_at?: string;
  /** No attempt starts after this. */
  deadline_at?: string;
}

/** A part of a model's answer that was refused (never executed) or corrected, and why. */
export interface Hallucination {
  agent: 'planner' | 'toolcaller';
  kind: string;
  /** The step the model named (may be one it invented). */
  step_id: string;
  tool: string;
  /** The argument the model tried to change (toolcaller). */
  arg?: string;
  reason: string;
  at: string;
}

/** One agent call of a run as stored and served by `GET /runs/{id}/trace`. */
export interface TraceRecord extends AgentTrace {
  /** 1, 2, … in call order within the run. */
  seq: number;
  at: string;
}

/** Everything a run needs, held in its Durable Object; D1 holds a mirror for listing. */
export interface RunState {
  id: string;
  tenantId: string;
  runbook: { id: string; name: string; version: number };
  spec: Runbook;
  policy: Policy;
  policyId: string | null;
  mode: RunMode;
  status: RunStatus;
  reason?: string;
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  actor: Actor;
  integrationMode: IntegrationMode;
  created_at: string;
  started_at?: string;
  ended_at?: string;
  cost_usd: number;
  tokens: number;
  steps: StepState[];
  /** Index of the step being worked on. */
  cursor: number;
  /** How the run ends once compensation is done (failed or denied). */
  outcome?: RunStatus;
  /** Steps to undo, in order, once a failure asked for compensation. */
  compensate: string[];
  /** Steps whose compensation failed for good: the run needs a person (`POST /runs/{id}/compensate` retries). */
  compensation_failed?: string[];
  /** When the run's object wants to be woken next (mirrored to D1 for the watchdog); none when it waits for a person or is done. */
  next_wake_at?: string;
  /** State of the simulated integrations for this run. */
  world: Record<string, unknown>;
  /** Sequence number of the last event. */
  seq: number;
  /** Last event sequence number copied to the audit log (outbox cursor). */
  audited_seq: number;
  /** The steps' `with` holds final argument values, not templates (ad-hoc tool calls). */
  literal_args?: boolean;
  /** Set when a tenant budget refused the run at creation: it fails before its first step, with this reason. */
  refused?: string;
  /**
   * The runs-per-hour budget has yet to be checked (`admitRun`): its object does that once it
   * holds the run, and again when it resumes if a crash came first.
   */
  admission_pending?: boolean;
  /** Agent calls recorded so far (their records live beside the state, `trace:<seq>`). */
  trace_seq?: number;
  /** What the agents proposed that was refused or corrected. */
  hallucinations?: Hallucination[];
  /**
   * The hash of the request that created the run, when its id came from an Idempotency-Key: a
   * retry with the same key is answered with this run only if its request hashes the same.
   */
  request_hash?: string;
  /** The span that started the run (a request's, a webhook's) as a `traceparent`: the run's trace links to it. */
  started_by_span?: string;
  /** The run's root span was handed to the exporter (persisted first, so a repeated flush never sends it twice). */
  root_span_recorded?: boolean;
}

export interface RunEvent {
  seq: number;
  ts: string;
  type: string;
  message?: string;
  actor?: { type: string; id: string };
  run: Pick<RunView, 'status' | 'ended_at' | 'cost_usd' | 'tokens' | 'reason'>;
  step?: StepView;
  /** `agent.called`: the call as recorded in the run's trace. */
  trace?: TraceRecord;
  /** `agent.hallucination`: what was refused, and why. */
  hallucination?: Hallucination;
}

export interface StepView {
  id: string;
  tool: string;
  status: StepStatus;
  args: Record<string, unknown> | null;
  result?: unknown;
  /** A large result's size, digest and preview; the whole is at `GET /runs/{id}/steps/{step}/result`. */
  result_ref?: ResultRef;
  error?: string;
  outcome_unknown?: true;
  decision?: Decision;
  attempts: number;
  integration_mode?: IntegrationMode;
  operations?: ToolOperation[];
  approvals: ApprovalRecord[];
  approval?: Decision['approval'];
  started_at?: string;
  ended_at?: string;
  compensation?: StepState['compensation'];
  /** The planner's reason for the step, and whether it added the step to the runbook's own. */
  plan?: { reason: string; added: boolean };
}

export interface RunView {
  id: string;
  runbook: string;
  runbook_version: number;
  status: RunStatus;
  mode: RunMode;
  reason?: string;
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  actor: { type: string; id: string; person?: string };
  integration_mode: IntegrationMode;
  created_at: string;
  started_at?: string;
  ended_at?: string;
  cost_usd: number;
  tokens: number;
  steps: StepView[];
  /** Present when an agent proposed something that was refused or corrected. */
  hallucinations?: Hallucination[];
  /** Steps whose undoing failed for good: a person must look (and may retry it). */
  compensation_failed?: string[];
}

export function stepView(s: StepState): StepView {
  return {
    id: s.id,
    tool: s.tool,
    status: s.status,
    args: s.args ?? null,
    ...(s.result !== undefined ? { result: s.result } : {}),
    ...(s.result_ref ? { result_ref: s.result_ref } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(s.outcome_unknown ? { outcome_unknown: true as const } : {}),
    ...(s.decision ? { decision: s.decision } : {}),
    attempts: s.attempts,
    ...(s.integration_mode ? { integration_mode: s.integration_mode } : {}),
    ...(s.operations ? { operations: s.operations } : {}),
    approvals: s.approvals,
    ...(s.decision?.approval ? { approval: s.decision.approval } : {}),
    ...(s.started_at ? { started_at: s.started_at } : {}),
    ...(s.ended_at ? { ended_at: s.ended_at } : {}),
    ...(s.compensation ? { compensation: s.compensation } : {}),
    ...(s.plan ? { plan: { reason: s.plan.reason, added: s.plan.added === true } } : {}),
  };
}

export function runView(r: RunState): RunView {
  return {
    id: r.id,
    runbook: r.runbook.name,
    runbook_version: r.runbook.version,
    status: r.status,
    mode: r.mode,
    ...(r.reason ? { reason: r.reason } : {}),
    inputs: r.inputs,
    context: r.context,
    actor: { type: r.actor.type, id: r.actor.id, ...(r.actor.person ? { person: r.actor.person } : {}) },
    integration_mode: r.integrationMode,
    created_at: r.created_at,
    ...(r.started_at ? { started_at: r.started_at } : {}),
    ...(r.ended_at ? { ended_at: r.ended_at } : {}),
    cost_usd: r.cost_usd,
    tokens: r.tokens,
    steps: r.steps.map(stepView),
    ...(r.hallucinations?.length ? { hallucinations: r.hallucinations } : {}),
    ...(r.compensation_failed?.length ? { compensation_failed: r.compensation_failed } : {}),
  };
}
