import { evalCondition } from '../cel';
import { withSpan } from '../observability/tracing';
import type { Facts } from '../policy/facts';
import type { Reservation } from '../policy/usage';
import type { RunbookStep } from '../runbooks/types';
import { RunAgents, type AgentEvent, type AgentsHost } from './agents';
import type { Reviewer, ReviewRefusal } from './approval-rules';
import { recordAgents, stopForBudget, usage } from './budget';
import { stepsToCompensate } from './compensation';
import type { Requester } from './compensation-policy';
import { cancelRun, retryCompensation, reviewStep, type Refusal } from './interventions';
import type { ToolCall, ToolInvoker, ToolOutcome } from './invoke';
import { outOfLine, type ResultRef } from './results';
import { attemptStep } from './step-attempt';
import { compensateNext } from './step-compensate';
import { prepareStep } from './step-prepare';
import type { RunState, RunStatus, StepState } from './types';

/** What the engine asks of its host (the run's Durable Object, or a test harness). */
export interface EngineHost {
  now(): number;
  invoker: ToolInvoker;
  /**
   * Persists the state with these events (and the agent traces they carry), atomically, before
   * anything else happens. `allSteps`: the step list itself changed (planning) or the run ended,
   * so every step's copy in D1 is refreshed, not only those the events name.
   */
  commit(events: PendingEvent[], opts?: { allSteps?: boolean }): Promise<void>;
  /**
   * Awaits a call to the world (a tool, a model) without holding the run, so that a cancel or an
   * approval is not kept waiting; `signal` aborts when the run is cancelled. Throws `Superseded`
   * when the run was changed meanwhile: the engine then drops what it was doing (its next tick
   * starts from the changed state). Without it (unit tests) the call is simply awaited.
   */
  outside?<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** The result the call with this key recorded (a large result is kept out of line there). */
  loadResult?(ref: Pick<ResultRef, 'key'>): Promise<unknown>;
  /** Tenant-wide counters (budgets, blast-radius limits); without one only per-run budgets apply. */
  governor?: Governor;
  /** The agents' provider and the planner's history; without it the deterministic stub plans. */
  agents?: AgentsHost;
}

/** The tenant-wide side of the policy, counted outside the run (D1 in production). */
export interface Governor {
  /** What the tenant's other runs have cost today (UTC). */
  tenantCostToday(): Promise<number>;
  /** Calls made in each `limits` window that covers this tool (index-aligned with the policy's limits). */
  limitCounts(toolId: string): Promise<(number | undefined)[] | undefined>;
  /** Takes a blast-radius slot for this step's call, atomically; idempotent per (run, step). */
  reserve(stepId: string, toolId: string): Promise<Reservation>;
  /** The trusted facts of a call (its target's labels, the tenant's schedule, the clock): DESIGN §13. */
  facts(toolId: string, args: Record<string, unknown>): Promise<Facts>;
}


export interface PendingEvent extends AgentEvent {
  actor?: { type: string; id: string };
}

/** When the engine wants to be woken next: a time (ms), or never (waits for a person or is done). */
export type Wake = number | undefined;

/**
 * One alarm works this long at most (then re-arms), so the platform's 15-minute limit on an alarm
 * is never near whatever a runbook holds. Cancels and approvals do not wait for it: they take the
 * lock whenever a call is in flight. Each alarm ends with a delivery of the outbox (D1 and the
 * audit log), so the slice is also how often a long run's copies catch up: under load a step can
 * take over a second of wall clock, and a 1 s slice made every step an alarm and a delivery.
 */
export const SLICE_MS = 5_000;
/**
 * No call to the world may take longer, whatever the step's timeout: calls are awaited inside an
 * alarm, which the platform ends after 15 minutes (and then retries, repeating the call).
 */
export const MAX_CALL_MS = 10 * 60_000;

export { Superseded } from './run-lock';

/** The actor of the engine's own transitions in events and the audit log. */
export type EventActor = PendingEvent['actor'];

/**
 * The run state machine. Each transition changes the state in memory and is committed (persisted
 * with its event) before the side effect it leads to; every tool call carries the idempotency key
 * `runId:stepId:attempt`, so a crash at any point resumes without acting twice.
 */
export class RunEngine {
  /** The tenant's spend as last read (budget.ts). */
  tenantCost: { at: number; value: number } | undefined;
  readonly agents: RunAgents;
  /** Large results this engine has read or produced, by step id. */
  private readonly results = new Map<string, unknown>();

  constructor(
    readonly run: RunState,
    readonly host: EngineHost,
  ) {
    this.agents = new RunAgents(run, host.agents, () => host.now(), (work) => this.outside(work));
  }

  outside<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.host.outside ? this.host.outside(work) : work(new AbortController().signal);
  }

  /**
   * A tool call made outside the run's lock, with a deadline (the step's, never past MAX_CALL_MS),
   * counted from `from` (when the attempt began, so its timeout reads as the step's).
   */
  call(call: Omit<ToolCall, 'tenantId' | 'runId' | 'world' | 'signal'>, deadline?: number, from = this.host.now()): Promise<ToolOutcome> {
    const left = Math.min(MAX_CALL_MS, deadline !== undefined ? deadline - from : MAX_CALL_MS);
    const run = this.run;
    return this.outside((signal) =>
      this.host.invoker.invoke({ ...call, tenantId: run.tenantId, runId: run.id, world: run.world, timeoutMs: Math.max(0, left), signal }),
    );
  }

  iso(ms = this.host.now()): string {
    return new Date(ms).toISOString();
  }

  /** A step the planner added has its own spec; a runbook step is the runbook's, found by id (the plan moves indices). */
  specOf(step: StepState): RunbookStep {
    return step.plan?.spec ?? this.run.spec.spec.steps.find((s) => s.id === step.id) ?? this.run.spec.spec.steps[step.idx]!;
  }

  /** Works until the run must wait or is done; returns when to be woken. */
  async tick(): Promise<Wake> {
    const sliceEnd = this.host.now() + SLICE_MS;
    for (;;) {
      const run = this.run;
      if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'denied' || run.status === 'cancelled') {
        return undefined;
      }
      if (this.host.now() >= sliceEnd) return this.host.now();
      if (run.status === 'queued' && run.refused && run.steps[0]) {
        await stopForBudget(this, run.steps[0], run.refused.replace(/^budget_exceeded: /, ''));
        continue;
      }
      if (run.status === 'queued') {
        run.status = 'planning';
        await this.host.commit([{ type: 'run.planning', message: `Planning ${run.spec.spec.steps.length} steps` }]);
        continue;
      }
      if (run.status === 'planning') {
        await this.plan();
        continue;
      }
      if (run.compensate.length > 0) {
        const id = run.compensate[0]!;
        const wait = await withSpan(`compensate ${id}`, { 'agentrunbook.step.id': id }, () => compensateNext(this));
        if (wait !== undefined) return wait;
        continue;
      }
      const step = run.steps[run.cursor];
      if (!step) {
        await this.finish(run.outcome ?? 'succeeded', run.reason ?? this.failuresPassedOver());
        continue;
      }
      const wake = await this.advanceStep(step);
      if (wake !== 'continue') return wake;
    }
  }

  /**
   * Asks the planner (the stub's plan is the runbook's steps as written) and commits the plan
   * with the call's trace in one transition, so a crash re-plans or keeps the plan, never half.
   * `if` conditions the plan could not settle are evaluated as each step comes up. Ad-hoc calls
   * are a person's exact call: there is nothing to plan.
   */
  private async plan(): Promise<void> {
    const run = this.run;
    const ids = (): string => run.steps.map((s) => s.id).join('\n');
    const before = ids();
    const planned = run.literal_args ? { ok: true as const, events: [] } : await this.agents.plan();
    if (!planned.ok) {
      await this.finish('failed', planned.reason, planned.events);
      return;
    }
    run.status = 'running';
    run.started_at = this.iso();
    const active = run.steps.filter((s) => s.status !== 'skipped').map((s) => (s.plan?.added ? `${s.id} (added)` : s.id));
    // Added steps are new rows in D1 and the others moved; the stub's plan changes neither.
    await this.host.commit([...planned.events, { type: 'run.started', message: `Plan: ${active.join(' → ')}` }], { allSteps: ids() !== before });
  }

  /**
   * What templates and conditions see. A large result is read from where it is kept only when the
   * step being prepared mentions the step that returned it (its spec's text names it).
   */
  async vars(spec?: RunbookStep): Promise<{ inputs: Record<string, unknown>; context: Record<string, unknown>; run: Record<string, unknown>; steps: Record<string, unknown> }> {
    const steps: Record<string, unknown> = {};
    const text = spec ? JSON.stringify(spec) : '';
    for (const s of this.run.steps) {
      const result = s.result_ref && text.includes(s.id) ? await this.resultOf(s) : s.result;
      steps[s.id] = result !== undefined ? { status: s.status, result } : { status: s.status };
    }
    return {
      inputs: this.run.inputs,
      context: this.run.context,
      run: { id: this.run.id, runbook: this.run.runbook.name, mode: this.run.mode, actor: this.run.actor },
      steps,
    };
  }

  /**
   * What a call cut off by a cancel returned, if it came back after all: the ledger recorded it
   * under the attempt's key (then what to undo can be told); undefined when it never answered.
   */
  async lateResult(step: StepState): Promise<unknown> {
    return this.host.loadResult?.({ key: this.key(step) }).catch(() => undefined);
  }

  /** A step's whole result, inline or kept out of line. */
  async resultOf(step: StepState): Promise<unknown> {
    if (!step.result_ref) return step.result;
    if (!this.results.has(step.id)) this.results.set(step.id, await this.host.loadResult?.(step.result_ref));
    return this.results.get(step.id);
  }

  private async advanceStep(step: StepState): Promise<Wake | 'continue'> {
    switch (step.status) {
      case 'pending':
        return this.traceStep(step, () => prepareStep(this, step));
      case 'awaiting_approval': {
        const expires = step.approval_expires_at ? Date.parse(step.approval_expires_at) : undefined;
        if (expires !== undefined && this.host.now() >= expires) {
          await this.failStep(step, 'Approval request expired', 'denied');
          return 'continue';
        }
        if (this.run.status !== 'awaiting_approval') {
          this.run.status = 'awaiting_approval';
          await this.host.commit([]);
        }
        return expires;
      }
      case 'running': {
        const wakeAt = step.wake_at ? Date.parse(step.wake_at) : undefined;
        if (wakeAt !== undefined && this.host.now() < wakeAt) return wakeAt;
        if (step.tool === 'core.wait' && wakeAt !== undefined) {
          return this.succeed(step, { waited_ms: Date.parse(step.wake_at!) - Date.parse(step.started_at!) }, this.key(step));
        }
        // Resumed after a crash mid-call or woken after a backoff: (re)deliver the attempt.
        return this.traceStep(step, () => attemptStep(this, step, wakeAt !== undefined));
      }
      default:
        this.run.cursor++;
        return 'continue';
    }
  }

  /**
   * One span per attempt at a step, its preparation included (the toolcaller's and reviewer's
   * calls, the policy), so the step's agent and tool calls are its children. The outcome is set at
   * the end: the status the step was left in and, when the attempt failed, why.
   */
  private traceStep(step: StepState, fn: () => Promise<Wake | 'continue'>): Promise<Wake | 'continue'> {
    const attrs = { 'agentrunbook.step.id': step.id, 'agentrunbook.tool': step.tool, 'agentrunbook.run.mode': this.run.mode };
    return withSpan(`step ${step.id}`, attrs, async (span) => {
      const next = await fn();
      span.setAttributes({
        'agentrunbook.step.attempt': step.attempts,
        'agentrunbook.step.status': step.status,
        'agentrunbook.integration_mode': step.integration_mode,
        'agentrunbook.policy.effect': step.decision?.effect,
      });
      // A retry leaves the step running with the attempt's error; a success clears it.
      if (step.error !== undefined && step.status !== 'succeeded') span.fail(step.error);
      return next;
    });
  }

  key(step: StepState): string {
    return `${this.run.id}:${step.id}:${step.attempts}`;
  }

  /** Keeps a result on the step: inline when small, else a reference to the call's ledger row. */
  async keepResult(step: StepState, result: unknown, key: string): Promise<void> {
    const ref = await outOfLine(result, key);
    step.result = ref ? undefined : result;
    step.result_ref = ref;
    if (ref) this.results.set(step.id, result);
  }

  async succeed(step: StepState, result: unknown, key: string): Promise<'continue'> {
    step.status = 'succeeded';
    await this.keepResult(step, result, key);
    step.error = undefined;
    step.wake_at = undefined;
    step.ended_at = this.iso();
    this.run.cursor++;
    await this.host.commit([{ type: 'step.succeeded', step: step.id, message: `${step.tool} succeeded after ${step.attempts} attempt(s)` }]);
    return 'continue';
  }

  /** A step that failed or was refused: the runbook's `on_failure` decides what follows. */
  async failStep(step: StepState, error: string, status: 'failed' | 'denied', actor?: PendingEvent['actor']): Promise<void> {
    const spec = this.specOf(step);
    step.status = status;
    step.error = error;
    step.wake_at = undefined;
    step.ended_at = this.iso();
    const events: PendingEvent[] = [{ type: `step.${status}`, step: step.id, message: error, actor }];
    this.run.cursor = step.idx + 1;
    if (spec.on_failure === 'continue') {
      if (this.run.status === 'awaiting_approval') this.run.status = 'running';
      await this.host.commit(events);
      return;
    }
    const outcome: RunStatus = status === 'denied' ? 'denied' : 'failed';
    this.run.reason = `Step ${step.id} ${status}: ${error}`;
    this.skipRemaining(step.idx + 1);
    if (spec.on_failure === 'compensate') this.queueCompensation();
    if (this.run.compensate.length > 0) {
      this.run.status = 'running';
      events.push({ type: 'run.compensating', message: `Compensating ${this.run.compensate.join(', ')}` });
      this.run.outcome = outcome;
      await this.host.commit(events);
      return;
    }
    await this.finish(outcome, this.run.reason, events);
  }

  /**
   * A run that reaches its end succeeds, but not silently over steps that failed with
   * `on_failure: continue`: its reason names them, in lists, the run.succeeded event and the audit.
   */
  private failuresPassedOver(): string | undefined {
    const failed = this.run.steps.filter((s) => s.status === 'failed' || s.status === 'denied');
    if (failed.length === 0) return undefined;
    const named = failed.map((s) => `${s.id} ${s.status}${s.error ? ` (${s.error.length > 200 ? `${s.error.slice(0, 200)}…` : s.error})` : ''}`);
    return `Succeeded with ${failed.length} failed step${failed.length === 1 ? '' : 's'} passed over (on_failure: continue): ${named.join('; ')}`;
  }

  skipRemaining(from: number): void {
    for (const s of this.run.steps.slice(from)) {
      if (s.status === 'pending' || s.status === 'awaiting_approval' || s.status === 'running') {
        s.status = 'skipped';
        s.wake_at = undefined;
      }
    }
    this.run.cursor = this.run.steps.length;
  }

  /** Completed (or possibly completed) mutating steps with an inverse, newest first. */
  queueCompensation(): void {
    this.run.compensate = stepsToCompensate(this.run);
  }

  /** A person's review of a waiting step (interventions.ts). */
  review(stepId: string, reviewer: Reviewer & { type: string }, verdict: 'approve' | 'deny', comment?: string): Promise<ReviewRefusal | { code: 'not_found'; message: string } | StepState> {
    return reviewStep(this, stepId, reviewer, verdict, comment);
  }

  /** Stops the run at once (interventions.ts); refused, with nothing changed, when the canceller may not undo what it asks undone. */
  cancel(actor: Requester, compensate: boolean): Promise<Refusal | undefined> {
    return cancelRun(this, actor, compensate);
  }

  /** Tries the failed compensations of a finished run again (interventions.ts). */
  retryCompensation(actor: Requester): Promise<Refusal | boolean> {
    return retryCompensation(this, actor);
  }

  async finish(status: RunStatus, reason: string | undefined, events: PendingEvent[] = [], actor?: PendingEvent['actor']): Promise<void> {
    this.run.status = status;
    if (reason) this.run.reason = reason;
    this.run.ended_at = this.iso();
    for (const s of this.run.steps) if (s.status === 'pending') s.status = 'skipped';
    await this.host.commit([...events, { type: `run.${status}`, message: reason ?? `Run ${status}`, actor }], { allSteps: true });
  }
}
