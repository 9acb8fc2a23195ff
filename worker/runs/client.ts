/**
 * The run object's RPC contract and its one typed client. RPC stubs type results that hold
 * `unknown` fields loosely; the client restores the object's own types in this one place, so
 * callers never re-cast.
 */
import type { Env } from '../env';
import type { ResultRef } from './results';
import type { Actor, RunEvent, RunState, RunView, StepView, TraceRecord } from './types';

export type RpcResult<T> = { ok: true; value: T } | { ok: false; code: 'not_found' | 'conflict' | 'forbidden'; message: string };

/** What `start` did: created the run, or found it (by its id) and whether by the same request. */
export interface StartOutcome {
  view: RunView;
  created: boolean;
  sameRequest: boolean;
}

/** A step's whole result; `ref` when it is kept out of line (large). */
export type StepResult = { found: false } | { found: true; result: unknown; ref?: ResultRef };

/** What the run object answers (durable-objects/run-do.ts implements it). */
export interface RunObject {
  start(init: RunState): Promise<StartOutcome>;
  kick(): Promise<RunView | null>;
  view(): Promise<RunView | null>;
  events(after: number, limit?: number): Promise<RunEvent[]>;
  traces(): Promise<TraceRecord[]>;
  stepResult(stepId: string): Promise<StepResult>;
  review(stepId: string, reviewer: Actor, verdict: 'approve' | 'deny', comment: string | undefined, canApprove: boolean): Promise<RpcResult<StepView>>;
  /** `actor` with the role its credential carries: undoing is decided by the policy as that person. */
  cancel(actor: Actor, compensate: boolean): Promise<RpcResult<RunView>>;
  retryCompensation(actor: Actor): Promise<RpcResult<RunView>>;
  ensureScheduled(): Promise<void>;
  settle(): Promise<void>;
  fetch(request: Request): Promise<Response>;
}

/** The run object of a tenant's run (a run id names an object only within its tenant). */
export function runStub(env: Env, tenantId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${tenantId}:${runId}`));
}

/** The run object, typed by its contract. */
export function runClient(env: Env, tenantId: string, runId: string): RunObject {
  return runStub(env, tenantId, runId) as unknown as RunObject;
}
