import { evalCondition } from '../cel';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { parseDuration } from '../lib/duration';
import { withSpan } from '../observability/tracing';
import { budgetReason, decide, type Reason, type Usage } from '../policy/decide';
import type { Reservation } from '../policy/usage';
import { resolveVerifyArgs } from '../runbooks';
import type { RunbookStep } from '../runbooks/types';
import { getTool } from '../tools/catalog';
import type { ToolDef } from '../tools/types';
import { RunAgents, type AgentEvent, type AgentsHost } from './agents';
import { approvalsFor, approvalsNeeded, reviewRefusal, type Reviewer, type ReviewRefusal } from './approval-rules';
import { backoffMs, mayRetry } from './backoff';
import { COMPENSATION_WINDOW_MS, compensationCall, nextCompensationAttempt, stepsToCompensate } from './compensation';
import type { ToolCall, ToolInvoker, ToolOutcome } from './invoke';
import { outOfLine, type ResultRef } from './results';
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
}

/** The tenant's spend is read at most this often per run object (it moves slowly; each read is a query). */
const TENANT_COST_TTL_MS = 5_000;

export interface PendingEvent extends AgentEvent {
  actor?: { type: string; id: string };
}

/** When the engine wants to be woken next: a time (ms), or never (waits for a person or is done). */
export type Wake = number | undefined;

/** One alarm works this long at most, then yields and re-arms, so cancels and approvals get a turn. */
const SLICE_MS = 1_000;
/**
 * No call to the world may take longer, whatever the step's timeout: calls are awaited inside an
 * alarm, which the platform ends after 15 minutes (and then retries, repeating the call).
 */
export const MAX_CALL_MS = 10 * 60_000;

/** The run was changed (cancelled) while a call was in flight: what the call returned is not applied. */
export class Superseded extends Error {
  constructor() {
    super('The run changed while a call was in flight');
    this.name = 'Superseded';
  }
}

/** The actor of the engine's own transitions in events and the audit log. */
export type EventActor = PendingEvent['actor'];

/**
 * The run state machine. Each transition changes the state in memory and is committed (persisted
 * with its event) before the side effect it leads to; every tool call carries the idempotency key
 * `runId:stepId:attempt`, so a crash at any point resumes without acting twice.
 */
export class RunEngine {
  private tenantCost: { at: number; value: number } | undefined;
  private readonly agents: RunAgents;
  /** Large results this engine has read or produced, by step id. */
  private readonly results = new Map<string, unknown>();

  constructor(
    private readonly run: RunState,
    private readonly host: EngineHost,
  ) {
    this.agents = new RunAgents(run, host.agents, () => host.now(), (work) => this.outside(work));
  }

  private outside<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.host.outside ? this.host.outside(work) : work(new AbortController().signal);
  }

  /** A tool call made outside the run's lock, with a deadline (the step's, never past MAX_CALL_MS). */
  private call(call: Omit<ToolCall, 'tenantId' | 'runId' | 'world' | 'signal'>, deadline?: number): Promise<ToolOutcome> {
    const left = Math.min(MAX_CALL_MS, deadline !== undefined ? deadline - this.host.now() : MAX_CALL_MS);
    const run = this.run;
    return this.outside((signal) =>
      this.host.invoker.invoke({ ...call, tenantId: run.tenantId, runId: run.id, world: run.world, timeoutMs: Math.max(0, left), signal }),
    );
  }

  private iso(ms = this.host.now()): string {
    return new Date(ms).toISOString();
  }

  /** A step the planner added has its own spec; a runbook step is the runbook's, found by id (the plan moves indices). */
  private specOf(step: StepState): RunbookStep {
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
        await this.stopForBudget(run.steps[0], run.refused.replace(/^budget_exceeded: /, ''));
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
        const wait = await withSpan(`compensate ${id}`, { 'agentrunbook.step.id': id }, () => this.compensateNext());
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
   * Commits what an agent call recorded (its trace, charged to the run) before the answer is
   * acted on, then checks the per-run budget the charge counts against. Returns true when the
   * budget stopped the run.
   */
  private async recordAgents(step: StepState, events: PendingEvent[]): Promise<boolean> {
    if (events.length === 0) return false;
    await this.host.commit(events);
    if (!events.some((e) => e.trace)) return false;
    const budget = budgetReason(this.run.policy, await this.usage());
    if (!budget) return false;
    await this.stopForBudget(step, budget.message);
    return true;
  }

  /**
   * What templates and conditions see. A large result is read from where it is kept only when the
   * step being prepared mentions the step that returned it (its spec's text names it).
   */
  private async vars(spec?: RunbookStep): Promise<{ inputs: Record<string, unknown>; context: Record<string, unknown>; run: Record<string, unknown>; steps: Record<string, unknown> }> {
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
  private async lateResult(step: StepState): Promise<unknown> {
    return this.host.loadResult?.({ key: this.key(step) }).catch(() => undefined);
  }

  /** A step's whole result, inline or kept out of line. */
  private async resultOf(step: StepState): Promise<unknown> {
    if (!step.result_ref) return step.result;
    if (!this.results.has(step.id)) this.results.set(step.id, await this.host.loadResult?.(step.result_ref));
    return this.results.get(step.id);
  }

  private async advanceStep(step: StepState): Promise<Wake | 'continue'> {
    switch (step.status) {
      case 'pending':
        return this.traceStep(step, () => this.prepare(step));
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
        return this.traceStep(step, () => this.attempt(step, wakeAt !== undefined));
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

  /** Evaluates `if`, resolves arguments and asks the policy; then waits, refuses or starts. */
  private async prepare(step: StepState): Promise<Wake | 'continue'> {
    const spec = this.specOf(step);
    const usage = await this.usage();
    const budget = budgetReason(this.run.policy, usage);
    if (budget) {
      await this.stopForBudget(step, budget.message);
      return 'continue';
    }
    const tool = getTool(step.tool);
    if (!tool) return this.failStep(step, `Unknown tool ${step.tool}`, 'failed').then(() => 'continue' as const);
    const vars = await this.vars(spec);
    if (spec.if !== undefined) {
      let go: boolean;
      try {
        go = evalCondition(spec.if, vars);
      } catch (err) {
        await this.failStep(step, `Condition failed: ${(err as Error).message}`, 'failed');
        return 'continue';
      }
      if (!go) {
        step.status = 'skipped';
        step.ended_at = this.iso();
        this.run.cursor++;
        await this.host.commit([{ type: 'step.skipped', step: step.id, message: `Condition is false: ${spec.if}` }]);
        return 'continue';
      }
    }
    const resolved = await this.agents.args(step, spec, vars);
    if (await this.recordAgents(step, resolved.events)) return 'continue';
    if (!resolved.ok) {
      await this.failStep(step, resolved.error, 'failed');
      return 'continue';
    }
    const argsHash = await sha256Hex(canonicalJson(resolved.args));
    const voided = step.approvals.some((a) => a.verdict === 'approve' && a.args_hash !== argsHash);
    step.args = resolved.args;
    step.args_hash = argsHash;
    const decision = decide(this.run.policy, {
      tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
      args: resolved.args,
      actor: this.run.actor,
      context: this.run.context,
      run: { id: this.run.id, runbook: this.run.runbook.name, mode: this.run.mode },
      stepRequiresApproval: spec.approval === 'required',
      usage: { ...usage, limits: await this.host.governor?.limitCounts(tool.id) },
    });
    const reviewed = await this.agents.review(step, decision, vars.steps);
    step.decision = reviewed.decision;
    if (await this.recordAgents(step, reviewed.events)) return 'continue';
    const effect = step.decision.effect;

    if (this.run.mode !== 'execute') return this.simulateStep(step, tool);
    if (effect === 'deny') {
      await this.failStep(step, step.decision.reasons.filter((r) => r.effect === 'deny').map((r) => r.message).join('; '), 'denied');
      return 'continue';
    }
    if (effect === 'require_approval') {
      const needed = approvalsNeeded(step.decision);
      if (approvalsFor(step.approvals, argsHash) < needed) {
        step.status = 'awaiting_approval';
        const expiresIn = step.decision.approval?.expires_in;
        const ms = expiresIn ? parseDuration(expiresIn) : undefined;
        if (ms !== undefined) step.approval_expires_at = this.iso(this.host.now() + ms);
        this.run.status = 'awaiting_approval';
        const events: PendingEvent[] = [];
        if (voided) events.push({ type: 'step.approval_voided', step: step.id, message: 'Arguments changed after approval; approval no longer applies' });
        events.push({ type: 'step.awaiting_approval', step: step.id, message: `Waiting for ${needed} approval(s) of ${tool.id}` });
        await this.host.commit(events);
        return ms !== undefined ? this.host.now() + ms : undefined;
      }
    }
    // The blast-radius slot is taken last, after any approval, right before the call: a call that
    // never happens must not use up the tenant's window.
    const reservation = (await this.host.governor?.reserve(step.id, tool.id)) ?? { ok: true };
    if (!reservation.ok) {
      const reason: Reason = {
        kind: 'limit',
        name: reservation.name,
        effect: 'deny',
        message: `Blast-radius limit "${reservation.name}" reached: ${reservation.used} of ${reservation.limit.max} per ${reservation.limit.per} used`,
      };
      step.decision = { effect: 'deny', reasons: [...step.decision.reasons, reason] };
      await this.failStep(step, reason.message, 'denied');
      return 'continue';
    }
    return this.attempt(step, true);
  }

  /** The counters budgets are checked against: the run's own, and the tenant's when a governor is given. */
  private async usage(): Promise<Usage> {
    const run = this.run;
    const now = this.host.now();
    const usage: Usage = {
      run: {
        steps_started: run.steps.filter((s) => s.attempts > 0).length,
        elapsed_ms: run.started_at ? now - Date.parse(run.started_at) : 0,
        tokens: run.tokens,
        cost_usd: run.cost_usd,
      },
    };
    const governor = this.host.governor;
    if (governor && run.policy.spec.budgets.per_tenant.max_cost_usd_per_day !== undefined) {
      if (!this.tenantCost || now - this.tenantCost.at > TENANT_COST_TTL_MS) {
        this.tenantCost = { at: now, value: await governor.tenantCostToday() };
      }
      usage.tenant = { cost_usd_today: this.tenantCost.value + run.cost_usd };
    }
    return usage;
  }

  /** dry_run and shadow: record the decision, the operations and a simulated result; act on nothing. */
  private async simulateStep(step: StepState, tool: ToolDef): Promise<'continue'> {
    step.operations = tool.dryRun(tool.args.parse(step.args));
    const key = `${this.run.id}:${step.id}:dry_run`;
    const outcome = await this.call({ tool, args: step.args!, idempotencyKey: key, stepId: step.id, mode: 'simulated' });
    step.status = step.decision?.effect === 'deny' ? 'denied' : 'simulated';
    step.integration_mode = 'simulated';
    if (outcome.ok) await this.keepResult(step, outcome.result, key);
    else step.error = outcome.error;
    step.ended_at = this.iso();
    if (step.status === 'denied') {
      this.run.reason ??= `Step ${step.id} would be denied`;
      this.run.outcome = 'denied';
    }
    this.run.cursor++;
    await this.host.commit([{ type: `step.${step.status}`, step: step.id, message: `${step.operations.length} operation(s) planned; decision: ${step.decision?.effect}` }]);
    return 'continue';
  }

  /** Starts (fresh) or re-delivers (after a crash) the current attempt of a step. */
  private async attempt(step: StepState, fresh: boolean): Promise<Wake | 'continue'> {
    const spec = this.specOf(step);
    const tool = getTool(step.tool);
    // A deploy removed the tool while the step was under way: it fails, the run goes on by its rules.
    if (!tool) return this.failStep(step, `Unknown tool ${step.tool} (no longer in the catalog)`, 'failed').then(() => 'continue' as const);
    const now = this.host.now();
    if (fresh) {
      step.attempts++;
      step.status = 'running';
      step.wake_at = undefined;
      step.integration_mode = this.run.integrationMode;
      step.started_at ??= this.iso(now);
      if (spec.timeout_ms !== undefined) step.deadline_at ??= this.iso(now + spec.timeout_ms);
      if (this.run.status !== 'running') this.run.status = 'running';
      if (tool.id === 'core.wait') step.wake_at = this.iso(now + (parseDuration(String(step.args!.duration)) ?? 0));
      await this.host.commit([{ type: 'step.started', step: step.id, message: `${tool.id} attempt ${step.attempts} (key ${this.key(step)})` }]);
      if (tool.id === 'core.wait') return Date.parse(step.wake_at!);
    }
    const deadline = step.deadline_at ? Date.parse(step.deadline_at) : undefined;
    if (deadline !== undefined && now >= deadline) {
      // Out of time between attempts: say why the last one failed, not only that time ran out.
      await this.failStep(step, `Step timed out after ${spec.timeout_ms} ms${step.error ? `; the last attempt failed: ${step.error}` : ''}`, 'failed');
      return 'continue';
    }
    const outcome = await this.call(
      {
        tool,
        args: step.args!,
        idempotencyKey: this.key(step),
        // One mark at the vendor for all the step's attempts: a retry after an ambiguous failure (the
        // create went through, its answer did not) finds the issue instead of opening a second.
        effectKey: `${this.run.id}:${step.id}`,
        stepId: step.id,
        mode: this.run.integrationMode,
        fresh,
      },
      deadline,
    );
    // In a live run, a call whose integration is not live still runs simulated: record which it was.
    if (outcome.mode) step.integration_mode = outcome.mode;
    let error = outcome.ok ? undefined : outcome.error;
    let retryable = outcome.ok ? false : outcome.retryable;
    if (outcome.ok && spec.verify) {
      const verdict = await this.verify(step, spec, outcome.result);
      if (verdict) {
        error = verdict;
        retryable = true;
      }
    }
    if (error === undefined && outcome.ok) return this.succeed(step, outcome.result, this.key(step));
    step.error = error;
    // A vendor's Retry-After (a 429 asking for longer than the integration waits in-call) is a floor.
    const backoff = backoffMs(spec.retry.backoff_ms, step.attempts, outcome.ok ? 0 : outcome.retryAfterMs);
    const next = this.host.now() + backoff;
    if (mayRetry(retryable, step.attempts, spec.retry.attempts, next, deadline)) {
      step.wake_at = this.iso(next);
      await this.host.commit([{ type: 'step.retrying', step: step.id, message: `Attempt ${step.attempts} failed: ${error}; retrying in ${backoff} ms` }]);
      return next;
    }
    await this.failStep(step, error!, 'failed');
    return 'continue';
  }

  private key(step: StepState): string {
    return `${this.run.id}:${step.id}:${step.attempts}`;
  }

  /** Runs the step's read-only check; returns why it failed, or undefined when it holds. */
  private async verify(step: StepState, spec: RunbookStep, result: unknown): Promise<string | undefined> {
    const verify = spec.verify!;
    const tool = getTool(verify.tool);
    if (!tool) return `Verification tool ${verify.tool} is no longer in the catalog`;
    const vars = await this.vars(spec);
    const args = resolveVerifyArgs(spec, step.args!, { ...vars, result });
    if (!args.ok) return `Verification arguments invalid: ${args.error}`;
    const deadline = step.deadline_at ? Date.parse(step.deadline_at) : undefined;
    const outcome = await this.call({ tool, args: args.args, idempotencyKey: `${this.key(step)}:verify`, stepId: step.id, mode: this.run.integrationMode }, deadline);
    if (!outcome.ok) return `Verification call failed: ${outcome.error}`;
    try {
      return evalCondition(verify.expect, { ...vars, result: outcome.result }) ? undefined : `Verification failed: ${verify.expect} is false`;
    } catch (err) {
      return `Verification failed: ${(err as Error).message}`;
    }
  }

  /** A budget stops the run cleanly: this and the later steps are skipped, then `on_failure` applies. */
  private async stopForBudget(step: StepState, why: string): Promise<void> {
    const spec = this.specOf(step);
    this.run.reason = `budget_exceeded: ${why}`;
    this.skipRemaining(step.idx);
    const events: PendingEvent[] = [{ type: 'run.budget_exceeded', step: step.id, message: `Budget exceeded before step ${step.id}: ${why}` }];
    if (spec.on_failure === 'compensate') this.queueCompensation();
    if (this.run.compensate.length > 0) {
      this.run.outcome = 'failed';
      events.push({ type: 'run.compensating', message: `Compensating ${this.run.compensate.join(', ')}` });
      await this.host.commit(events);
      return;
    }
    await this.finish('failed', this.run.reason, events);
  }

  /** Keeps a result on the step: inline when small, else a reference to the call's ledger row. */
  private async keepResult(step: StepState, result: unknown, key: string): Promise<void> {
    const ref = await outOfLine(result, key);
    step.result = ref ? undefined : result;
    step.result_ref = ref;
    if (ref) this.results.set(step.id, result);
  }

  private async succeed(step: StepState, result: unknown, key: string): Promise<'continue'> {
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

  private skipRemaining(from: number): void {
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

  /**
   * One attempt at undoing the next step in the queue. A retryable failure is tried again with
   * backoff (each attempt its own key) until the window closes; then, or on a failure that no retry
   * can mend, the step is left for a person and the queue moves on. Returns when to be woken when
   * the next attempt must wait.
   */
  private async compensateNext(): Promise<Wake> {
    const run = this.run;
    const step = run.steps.find((s) => s.id === run.compensate[0])!;
    const now = this.host.now();
    const pending = step.compensation?.status === 'pending' ? step.compensation : undefined;
    if (pending?.next_at && now < Date.parse(pending.next_at)) return Date.parse(pending.next_at);
    const call = compensationCall(step, step.outcome_unknown ? await this.lateResult(step) : await this.resultOf(step));
    if (call.kind === 'nothing') {
      step.compensation = { tool: call.tool, args: null, status: 'skipped', result: 'nothing to undo' };
      return this.compensated(step, { type: 'step.compensation_skipped', step: step.id, message: `${step.tool} changed nothing; nothing to undo` });
    }
    if (call.kind === 'impossible') {
      step.compensation = { tool: call.tool, args: null, status: 'failed', error: `Cannot undo: ${call.why}` };
      return this.compensated(step, { type: 'step.compensation_failed', step: step.id, message: `Cannot undo ${step.id}: ${call.why}; a person must check it` });
    }
    // An attempt started before a restart (no backoff set) is delivered again under its own key.
    const redeliver = pending?.attempts !== undefined && pending.next_at === undefined;
    const attempts = redeliver ? pending.attempts! : (pending?.attempts ?? 0) + 1;
    const deadline = pending?.deadline_at ? Date.parse(pending.deadline_at) : now + COMPENSATION_WINDOW_MS;
    if (!redeliver) {
      step.compensation = { tool: call.tool.id, args: call.args, status: 'pending', attempts, deadline_at: this.iso(deadline) };
      await this.host.commit([{ type: 'step.compensating', step: step.id, message: `${call.tool.id} attempt ${attempts}` }]);
    }
    const outcome = await this.call(
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
      return this.compensated(step, { type: 'step.compensated', step: step.id, message: `Undone with ${call.tool.id}` });
    }
    const next = nextCompensationAttempt(attempts, outcome.retryable, this.host.now(), deadline, outcome.retryAfterMs);
    if (next !== undefined) {
      step.compensation = { tool: call.tool.id, args: call.args, status: 'pending', attempts, deadline_at: this.iso(deadline), error: outcome.error, next_at: this.iso(next) };
      await this.host.commit([{ type: 'step.compensation_retrying', step: step.id, message: `${call.tool.id} attempt ${attempts} failed: ${outcome.error}; retrying in ${next - this.host.now()} ms` }]);
      return next;
    }
    step.compensation = { tool: call.tool.id, args: call.args, status: 'failed', error: outcome.error, attempts };
    return this.compensated(step, { type: 'step.compensation_failed', step: step.id, message: `${call.tool.id} failed after ${attempts} attempt(s): ${outcome.error}; a person must check it` });
  }

  /** The step's undoing is over (done, nothing to do, or failed for good): on to the next, or the end. */
  private async compensated(step: StepState, event: PendingEvent): Promise<undefined> {
    const run = this.run;
    run.compensate.shift();
    if (step.compensation?.status === 'failed') run.compensation_failed = [...new Set([...(run.compensation_failed ?? []), step.id])];
    if (run.compensate.length > 0) {
      await this.host.commit([event]);
      return undefined;
    }
    const failed = run.compensation_failed ?? [];
    const reason = failed.length > 0 ? `compensation_failed: ${failed.join(', ')} could not be undone (${run.reason ?? 'run stopped'})` : run.reason;
    await this.finish(run.outcome ?? 'failed', reason, [event]);
    return undefined;
  }

  /**
   * A person's review of a waiting step (the rules are approval-rules.ts). An approval that
   * completes the quorum lets the step run at the next tick; a denial ends it by its `on_failure`.
   */
  async review(stepId: string, reviewer: Reviewer & { type: string }, verdict: 'approve' | 'deny', comment?: string): Promise<ReviewRefusal | { code: 'not_found'; message: string } | StepState> {
    const run = this.run;
    const step = run.steps.find((s) => s.id === stepId);
    if (!step) return { code: 'not_found', message: `Step ${stepId} not found` };
    const refusal = reviewRefusal(step, reviewer, run.actor.id, this.host.now());
    if (refusal) {
      // A lapsed request ends now rather than when the alarm comes.
      if (step.status === 'awaiting_approval' && /expired/.test(refusal.message)) await this.failStep(step, 'Approval request expired', 'denied');
      return refusal;
    }
    const actor = { type: reviewer.type, id: reviewer.id };
    step.approvals.push({ actor, role: reviewer.role, verdict, ...(comment ? { comment } : {}), at: this.iso(), args_hash: step.args_hash ?? '' });
    if (verdict === 'deny') {
      await this.failStep(step, `Denied by ${reviewer.id}${comment ? `: ${comment}` : ''}`, 'denied', actor);
      return step;
    }
    const needed = Math.max(1, approvalsNeeded(step.decision));
    const given = approvalsFor(step.approvals, step.args_hash);
    if (given >= needed) {
      step.status = 'pending';
      step.approval_expires_at = undefined;
      run.status = 'running';
    }
    await this.host.commit([{ type: 'step.approved', step: step.id, actor, message: `Approved by ${reviewer.id} (${given}/${needed})${comment ? `: ${comment}` : ''}` }]);
    return step;
  }

  /**
   * Stops the run at once: nothing further starts. A step whose call may be in flight is marked
   * `outcome_unknown` (it may have acted); with `compensate`, what completed — or may have — is
   * undone, newest first, before the run ends `cancelled`.
   */
  async cancel(actor: { type: string; id: string }, compensate: boolean): Promise<void> {
    const run = this.run;
    const reason = `Cancelled by ${actor.id}`;
    for (const s of run.steps) {
      const inFlight = s.status === 'running' && s.attempts > 0 && s.tool !== 'core.wait';
      if (inFlight) {
        s.status = 'failed';
        s.outcome_unknown = true;
        s.error = `Cancelled while attempt ${s.attempts} was under way; whether it acted is unknown${s.error ? ` (the previous attempt failed: ${s.error})` : ''}`;
        s.wake_at = undefined;
        s.ended_at = this.iso();
      } else if (s.status === 'pending' || s.status === 'awaiting_approval' || s.status === 'running') {
        s.status = 'skipped';
        s.wake_at = undefined;
      }
    }
    run.cursor = run.steps.length;
    // A cancel during compensation lets the undoing finish: stopping half-way would leave more changed.
    if (compensate && run.compensate.length === 0) this.queueCompensation();
    if (run.compensate.length > 0) {
      run.status = 'running';
      run.reason = reason;
      run.outcome = 'cancelled';
      await this.host.commit([{ type: 'run.compensating', actor, message: `${reason}; compensating ${run.compensate.join(', ')}` }], { allSteps: true });
      return;
    }
    await this.finish('cancelled', reason, [], actor);
  }

  /** An sre asks for the failed compensations of a finished run to be tried again. */
  async retryCompensation(actor: { type: string; id: string }): Promise<boolean> {
    const run = this.run;
    const failed = run.compensation_failed ?? [];
    if (failed.length === 0) return false;
    for (const id of failed) {
      const step = run.steps.find((s) => s.id === id);
      // A new attempt (a new key: the last one's failure must not be replayed), with a new window.
      if (step?.compensation) step.compensation = { ...step.compensation, status: 'pending', next_at: this.iso(), deadline_at: undefined };
    }
    run.outcome = run.status;
    run.compensate = [...failed];
    run.compensation_failed = undefined;
    run.status = 'running';
    run.ended_at = undefined;
    await this.host.commit([{ type: 'run.compensating', actor, message: `Compensation retried by ${actor.id}: ${failed.join(', ')}` }], { allSteps: true });
    return true;
  }

  async finish(status: RunStatus, reason: string | undefined, events: PendingEvent[] = [], actor?: PendingEvent['actor']): Promise<void> {
    this.run.status = status;
    if (reason) this.run.reason = reason;
    this.run.ended_at = this.iso();
    for (const s of this.run.steps) if (s.status === 'pending') s.status = 'skipped';
    await this.host.commit([...events, { type: `run.${status}`, message: reason ?? `Run ${status}`, actor }], { allSteps: true });
  }
}
