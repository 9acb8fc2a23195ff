import {
  AgentError,
  allowedTools,
  createProvider,
  fillArgs,
  planRun,
  reviewCall,
  tighten,
  type AgentTrace,
  type PastRun,
  type Provider,
  type Review,
} from '../agents';
import type { CelVars } from '../cel';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { errorFields, log } from '../observability/log';
import type { Decision } from '../policy/decide';
import { resolveStepArgs, validateLiteralArgs, type ArgsResult } from '../runbooks';
import type { RunbookStep } from '../runbooks/types';
import { plannedSteps } from './planned-steps';
import type { Hallucination, RunState, StepState, TraceRecord } from './types';

/** What the run engine needs to reach the agents (the run's Durable Object provides it). */
export interface AgentsHost {
  /** The provider, built once per run object; throws `AgentError('config')` when misconfigured. */
  provider(): Provider;
  /** How the last runs of the same runbook ended, newest first. */
  history(): Promise<PastRun[]>;
}

/** An event for the run's log; `trace` and `hallucination` travel with it into storage and live views. */
export interface AgentEvent {
  type: string;
  message?: string;
  step?: string;
  trace?: TraceRecord;
  hallucination?: Hallucination;
}

export type Planned = { ok: true; events: AgentEvent[] } | { ok: false; reason: string; events: AgentEvent[] };
export type Filled = ArgsResult & { events: AgentEvent[] };
export interface Reviewed {
  decision: Decision;
  events: AgentEvent[];
}

const STUB = createProvider({ provider: 'stub', model: 'stub' });

function usd(n: number): string {
  return `$${n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/**
 * The agents' part of a run: the plan, the arguments a model fills, the review of each call. Every
 * call is charged to the run here, once, when its trace is recorded; the caller commits the
 * returned events (which carry the trace) before acting on the answer. The stub's toolcaller and
 * reviewer would answer with the template's own arguments and "no objection", so they are not
 * asked: a stub run's steps and decisions are exactly the deterministic engine's.
 */
export class RunAgents {
  constructor(
    private readonly run: RunState,
    private readonly host: AgentsHost | undefined,
    private readonly now: () => number,
    /** Awaits a model call without holding the run (a cancel aborts it through `signal`). */
    private readonly outside: <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T> = (work) => work(new AbortController().signal),
  ) {}

  private provider(): { ok: true; provider: Provider } | { ok: false; error: string } {
    if (!this.host) return { ok: true, provider: STUB };
    try {
      return { ok: true, provider: this.host.provider() };
    } catch (err) {
      if (err instanceof AgentError) return { ok: false, error: `Agents are misconfigured: ${err.message}` };
      throw err;
    }
  }

  /** Charges a call to the run and turns it into its event; the trace is stored with the event. */
  private charge(trace: AgentTrace): AgentEvent {
    const run = this.run;
    run.trace_seq = (run.trace_seq ?? 0) + 1;
    const record: TraceRecord = { seq: run.trace_seq, at: new Date(this.now()).toISOString(), ...trace };
    run.tokens += trace.input_tokens + trace.output_tokens;
    run.cost_usd = Math.round((run.cost_usd + trace.cost_usd) * 1e8) / 1e8;
    const spend = `${trace.input_tokens}+${trace.output_tokens} tokens, ${usd(trace.cost_usd)}, ${trace.latency_ms} ms`;
    const outcome = trace.error ? `; failed (${trace.error.code}): ${trace.error.message}` : '';
    return {
      type: 'agent.called',
      ...(trace.step !== undefined && { step: trace.step }),
      message: `${trace.agent} via ${trace.provider} ${trace.model} (${trace.prompt_version}): ${spend}${outcome}`,
      trace: record,
    };
  }

  private hallucinated(found: Omit<Hallucination, 'at'>[]): AgentEvent[] {
    if (found.length === 0) return [];
    const at = new Date(this.now()).toISOString();
    const records = found.map((h) => ({ ...h, at }));
    this.run.hallucinations = [...(this.run.hallucinations ?? []), ...records];
    return records.map((h) => ({
      type: 'agent.hallucination',
      // Only a step of this run gets its view attached; an invented id stays in the record.
      ...(this.run.steps.some((s) => s.id === h.step_id) && { step: h.step_id }),
      message: `${h.agent} proposed ${h.tool}${h.arg ? ` (argument ${h.arg})` : ''} for step "${h.step_id}" (${h.kind}); refused, nothing of it runs: ${h.reason}`,
      hallucination: h,
    }));
  }

  /**
   * Asks the planner and applies its validated plan to the run's steps. A provider that fails for
   * good fails the planning (the caller fails the run): never a silent fall back to the stub.
   */
  async plan(): Promise<Planned> {
    const run = this.run;
    const got = this.provider();
    if (!got.ok) return { ok: false, reason: got.error, events: [] };
    const provider = got.provider;
    const history = provider.name === 'stub' ? [] : await this.history();
    const outcome = await this.outside((signal) => planRun(provider, {
      signal,
      runbook: run.spec,
      inputs: run.inputs,
      context: run.context,
      run: { id: run.id, mode: run.mode, actor: run.actor },
      allowed: allowedTools(run.policy, run.actor.role),
      history,
    }));
    const events = [this.charge(outcome.trace)];
    if (!outcome.ok) return { ok: false, reason: `Planning failed: ${outcome.error.message}`, events };
    const at = new Date(this.now()).toISOString();
    const planned = plannedSteps(run, outcome.plan, at);
    run.steps = planned.steps;
    events.push(...this.hallucinated(planned.hallucinations));
    for (const s of planned.skipped) events.push({ type: 'step.skipped', step: s.id, message: `Planner: ${s.reason}` });
    return { ok: true, events };
  }

  /** The planner does without history when it cannot be read: it only informs the plan. */
  private async history(): Promise<PastRun[]> {
    try {
      return (await this.host?.history()) ?? [];
    } catch (err) {
      log.warn('run history for the planner could not be read', { run_id: this.run.id, error: errorFields(err) });
      return [];
    }
  }

  /**
   * The step's arguments: templates resolved, then the open arguments filled by the toolcaller.
   * Literal arguments (ad-hoc calls, steps the planner added with concrete values) are only
   * validated: there is nothing to fill, and a template inside them is text, never evaluated.
   */
  async args(step: StepState, spec: RunbookStep, vars: CelVars): Promise<Filled> {
    if (this.run.literal_args || step.plan?.added) return { ...validateLiteralArgs(spec), events: [] };
    const resolved = resolveStepArgs(spec, vars);
    if (!resolved.ok) return { ...resolved, events: [] };
    const got = this.provider();
    if (!got.ok) return { ok: false, error: got.error, events: [] };
    if (got.provider.name === 'stub') return { ...resolved, events: [] };

    const templateHash = await sha256Hex(canonicalJson(resolved.args));
    const memo = step.agent?.args;
    if (memo?.template_hash === templateHash) return { ok: true, args: memo.args, events: [] };
    const filled = await this.outside((signal) =>
      fillArgs(got.provider, { signal, step: { id: step.id, tool: step.tool, with: spec.with }, vars, ...(this.run.spec.spec.goal !== undefined && { goal: this.run.spec.spec.goal }) }),
    );
    const events = filled.trace ? [this.charge(filled.trace)] : [];
    if (!filled.ok) {
      // An answer that does not fit the tool's schema, even after a repair, is a hallucination too.
      const invalid = filled.agentError ? filled.agentError.code === 'invalid_output' : filled.trace !== undefined;
      if (invalid) events.push(...this.hallucinated([{ agent: 'toolcaller', kind: 'invalid_args', step_id: step.id, tool: step.tool, reason: filled.error }]));
      return { ok: false, error: filled.error, events };
    }
    events.push(...this.hallucinated(filled.hallucinations.map((h) => ({ agent: 'toolcaller' as const, kind: h.kind, step_id: h.step_id, tool: h.tool, arg: h.arg, reason: h.reason }))));
    step.agent = { ...step.agent, args: { template_hash: templateHash, args: filled.args } };
    return { ok: true, args: filled.args, events };
  }

  /**
   * The policy's decision, tightened by the reviewer's verdict (never loosened). A reviewer that
   * cannot answer asks for a person instead. A denial is final already, so it is not reviewed.
   */
  async review(step: StepState, decision: Decision, results: unknown): Promise<Reviewed> {
    if (this.run.literal_args || decision.effect === 'deny') return { decision, events: [] };
    const got = this.provider();
    if (!got.ok) return { decision: unavailable(decision, got.error), events: [] };
    if (got.provider.name === 'stub') return { decision, events: [] };

    const argsHash = step.args_hash ?? '';
    const memo = step.agent?.review;
    if (memo?.args_hash === argsHash) return { decision: apply(decision, memo.review), events: [] };
    const outcome = await this.outside((signal) => reviewCall(got.provider, {
      signal,
      runbook: { name: this.run.runbook.name, ...(this.run.spec.spec.goal !== undefined && { goal: this.run.spec.spec.goal }) },
      step: { id: step.id, tool: step.tool, args: step.args ?? {} },
      decision,
      inputs: this.run.inputs,
      context: this.run.context,
      results: results as Record<string, unknown>,
    }));
    const events = [this.charge(outcome.trace)];
    const review: Review = outcome.ok ? outcome.review : unavailableReview(`${outcome.error.code}: ${outcome.error.message}`);
    step.agent = { ...step.agent, review: { args_hash: argsHash, review } };
    return { decision: apply(decision, review), events };
  }
}

function unavailableReview(why: string): Review {
  return { verdict: 'require_approval', reason: `unavailable (${why.slice(0, 800)}); a person must approve this call instead` };
}

function unavailable(decision: Decision, why: string): Decision {
  return apply(decision, unavailableReview(why));
}

/** "No objection" adds nothing to a decision (the trace keeps it); any other verdict tightens it. */
function apply(decision: Decision, review: Review): Decision {
  return review.verdict === 'ok' ? decision : tighten(decision, review);
}
