import { DurableObject } from 'cloudflare:workers';
import { createProvider, loadAgentConfig, type Provider } from '../worker/agents';
import { makeDb } from '../worker/db/client';
import type { Env } from '../worker/env';
import { errorFields, log, registerSecrets } from '../worker/observability/log';
import { runTraceContext, traceInvocation, type Attributes, type SpanContext } from '../worker/observability/tracing';
import { admitRun, unadmitRun } from '../worker/runs/create';
import { RunEngine, Superseded, type PendingEvent } from '../worker/runs/engine';
import { LedgerInvoker, type LedgerRow } from '../worker/runs/invoke';
import { liveBackends } from '../worker/runs/live';
import { answerWatcher, broadcast, closeWatcher, openLiveView, type StandingCheck } from '../worker/runs/live-view';
import { standingCredentials } from '../worker/auth/credential-standing';
import { FaultCounter, faultRetryMs } from '../worker/runs/faults';
import { EVENT_PREFIX, LEDGER_PREFIX, OUTBOX_KEY, Outbox, UNMIRRORED_PREFIX, eventKey, initialCursors, type OutboxCursors } from '../worker/runs/outbox';
import type { RpcResult, StartOutcome, StepResult } from '../worker/runs/client';
import { RunLock } from '../worker/runs/run-lock';
import { d1Governor, runHistory, sealEvents } from '../worker/runs/run-events';
import { runAttributes } from '../worker/runs/run-trace';
import { RunStore, putAll } from '../worker/runs/state-store';
import { TERMINAL_RUN, runView, stepView, type Actor, type RunEvent, type RunState, type RunView, type StepView, type TraceRecord } from '../worker/runs/types';

/** Agent calls, one key each: the run state stays small however many calls a run makes. */
const TRACE_PREFIX = 'trace:';
const traceKey = (seq: number) => `${TRACE_PREFIX}${String(seq).padStart(10, '0')}`;
/** A cancel or an approval waits at most this long for its copy to D1 and the audit log (the outbox retries the rest). */
const ANSWER_DELIVERY_WAIT_MS = 2_000;


/**
 * One run: runtime glue around the engine (worker/runs/engine.ts). The state lives in this
 * object's storage (state-store.ts) and every transition is persisted there with its event before
 * anything acts on it; alarms drive the steps. Calls to the world are awaited outside the run's
 * lock (run-lock.ts), so a cancel or an approval is applied at once, and a cancel aborts the call
 * in flight. D1 and the audit log are fed from the persisted events by the outbox (outbox.ts),
 * retried until delivered.
 */
export class RunDO extends DurableObject<Env> {
  private run: RunState | undefined;
  private readonly store: RunStore;
  private outbox!: Outbox;
  private readonly lock = new RunLock();
  private readonly faults: FaultCounter;
  private readonly invoker: LedgerInvoker;
  /** The agents' provider, built once per run object from the environment (LLM_PROVIDER …). */
  private provider: Provider | undefined;
  /** The run's trace, derived from its id: hashed once per object, not on every alarm. */
  private traceParent: SpanContext | undefined;
  /** The work loop under way, if any (it may be waiting on a call outside the lock). */
  private loop: Promise<void> | undefined;
  /** Work was asked for while the loop was under way: it ticks once more before it ends. */
  private again = false;
  /** When the engine asked to be woken (undefined: it waits for a person, or the run is done). */
  private wakeAt: number | undefined;
  /** The live view's sockets, and how their credentials are checked again (live-view.ts). */
  private readonly watchers: { ctx: DurableObjectState; check: StandingCheck };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    registerSecrets(env); // an object in a fresh isolate may log before any request registered them
    const db = makeDb(env.DB);
    this.store = new RunStore(ctx.storage);
    this.watchers = { ctx, check: (tenant, creds) => standingCredentials(db, tenant, creds) };
    this.faults = new FaultCounter(ctx.storage);
    this.invoker = new LedgerInvoker(
      db,
      {
        // The ledger row lands in this object's storage first (sub-millisecond, and before the next
        // transition is committed); the outbox copies it to D1's tool_calls, where it is visible.
        record: (row) => ctx.storage.put({ [`${LEDGER_PREFIX}${row.idempotencyKey}`]: row, [`${UNMIRRORED_PREFIX}${row.idempotencyKey}`]: true }),
        recall: (key) => ctx.storage.get<LedgerRow>(`${LEDGER_PREFIX}${key}`),
      },
      liveBackends(env, db),
    );
    ctx.blockConcurrencyWhile(() => this.load());
  }

  /** Reads the run from storage (at start, and after a failed commit: memory is not trusted then). */
  private async load(): Promise<void> {
    this.run = await this.store.load();
    const cursors = (await this.ctx.storage.get<OutboxCursors>(OUTBOX_KEY)) ?? (this.run ? initialCursors(this.run) : initialCursors({ seq: 0 }));
    this.outbox = new Outbox(this.env, this.ctx.storage, cursors);
  }

  /**
   * One invocation as a span of the run's trace (run-trace.ts), its spans exported after it in the
   * background. Opened inside the lock, so a span measures the work, not the wait for its turn.
   */
  private traced<T>(name: string, run: RunState | undefined, attrs: Attributes, fn: () => Promise<T>, links?: (string | undefined)[]): Promise<T> {
    if (!run) return fn();
    this.traceParent ??= runTraceContext(run.id);
    return traceInvocation(this.env, (p) => this.ctx.waitUntil(p), name, { ...runAttributes(run), ...attrs }, fn, { parent: this.traceParent, ...(links ? { links } : {}) });
  }

  private engine(run: RunState): RunEngine {
    const db = makeDb(this.env.DB);
    return new RunEngine(run, {
      now: () => Date.now(),
      invoker: this.invoker,
      commit: (events, opts) => this.commit(run, events, opts),
      outside: (work) => this.lock.fenced(work),
      loadResult: (ref) => this.invoker.resultOf(run.tenantId, ref.key),
      agents: {
        // A misconfiguration throws AgentError('config') each time (nothing is cached), and the
        // engine fails the run with it rather than planning with the stub.
        provider: () => (this.provider ??= createProvider(loadAgentConfig(this.env))),
        history: runHistory(db, run),
      },
      governor: d1Governor(db, run),
    });
  }

  private async commit(run: RunState, pending: PendingEvent[], opts: { allSteps?: boolean } = {}): Promise<void> {
    // Numbered first, so the header written with them carries their last seq.
    const { events, traces } = sealEvents(run, pending);
    const entries = this.store.entries(run);
    // A trace is written with the state that was charged for it: never one without the other.
    for (const t of traces) entries[traceKey(t.seq)] = t;
    for (const ev of events) entries[eventKey(ev.seq)] = ev;
    // The step list changed (planning) or the run ended: the D1 copy refreshes every step.
    if (opts.allSteps) {
      this.outbox.cursors.mirror_all_upto = run.seq;
      entries[OUTBOX_KEY] = this.outbox.cursors;
    }
    await putAll(this.ctx.storage, entries);
    this.store.saved(entries);
    broadcast(this.watchers, events);
  }

  /** Copies what was persisted to D1 and the audit log (outbox.ts; a failure is retried by the alarm). */
  private deliver(): Promise<void> {
    return this.run ? this.outbox.drain(this.run, (p) => this.ctx.waitUntil(p)) : Promise.resolve();
  }

  /** A delivery whose failure only arms a retry (the caller has nothing to undo). */
  private async deliverOrRetry(): Promise<void> {
    try {
      await this.deliver();
    } catch (err) {
      log.warn('run outbox delivery failed; retrying', { run_id: this.run?.id, failures: this.outbox.failures, error: errorFields(err) });
    }
    await this.arm();
  }

  /**
   * The alarm: the engine's wake-up, or sooner when the outbox still has something to deliver.
   * Never later than an alarm already set: that one was asked for by something newer (an approval
   * wants the engine now) or fires harmlessly.
   */
  private async arm(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const live = !TERMINAL_RUN.has(run.status) ? this.wakeAt : undefined;
    const retry = this.outbox.retryAt(run.seq, Date.now());
    const wanted = [live, retry].filter((t): t is number => t !== undefined);
    if (wanted.length === 0) return;
    const at = Math.min(...wanted);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Creates the run and arms its first alarm. Idempotent for the same id: a run that exists is
   * answered as it is (`created: false`), and `sameRequest` says whether the request that created
   * it had the same hash (an Idempotency-Key reused for another request is the caller's to refuse).
   */
  async start(init: RunState): Promise<StartOutcome> {
    return this.lock.run(() => this.traced('run.start', init, {}, async (): Promise<StartOutcome> => {
      if (this.run) return { view: runView(this.run), created: false, sameRequest: this.run.request_hash === init.request_hash };
      const run = structuredClone(init);
      // Only the run's row is copied to D1 now: its steps are copied as they change (and all of
      // them when the plan changes them or the run ends); pending steps are read from the object.
      try {
        this.run = run;
        await this.commit(run, [{ type: 'run.created', actor: { type: run.actor.type, id: run.actor.id }, message: `Run of ${run.runbook.name} v${run.runbook.version} (${run.mode})` }]);
        // Armed with the state, before the copy to D1: a process killed after the D1 row is
        // written must not leave a run that nothing wakes (it would stay queued until read).
        await this.ctx.storage.setAlarm(Date.now());
        // The runs-per-hour slot is the run's row as it is now: then only the audit log is left.
        if (await admitRun(makeDb(this.env.DB), run)) this.outbox.mirrored(run.seq);
        await this.deliver();
      } catch (err) {
        // Nothing half-written: without its D1 row nobody could see or resume this run, and a row
        // without the run would be listed as queued forever.
        this.run = undefined;
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        await this.load();
        await unadmitRun(makeDb(this.env.DB), run).catch(() => undefined);
        throw err;
      }
      return { view: runView(run), created: true, sameRequest: true };
    }, [init.started_by_span]));
  }

  /** Works on the run now rather than when its alarm comes (ad-hoc calls answer with their outcome). */
  async kick(): Promise<RunView | null> {
    await this.work();
    return this.run ? runView(this.run) : null;
  }

  override async alarm(): Promise<void> {
    await this.work();
  }

  /**
   * Ticks the engine until it waits, then delivers the outbox and arms the alarm. One loop at a
   * time: work asked for meanwhile is done by the loop under way (a second loop would deliver the
   * call in flight twice).
   */
  private work(): Promise<void> {
    this.again = true;
    this.loop ??= (async () => {
      try {
        while (this.again) {
          this.again = false;
          await this.lock.run(() => this.traced('run.alarm', this.run, {}, () => this.tick()));
        }
      } finally {
        this.loop = undefined;
      }
      await this.deliverOrRetry();
    })();
    return this.loop;
  }

  /** One engine tick under the lock; a tick that throws is a fault, counted (poison-pill handling). */
  private async tick(): Promise<void> {
    for (;;) {
      const run = this.run;
      if (!run || TERMINAL_RUN.has(run.status)) return;
      try {
        // The process died between start()'s commit and the budget check: check it now.
        if (run.admission_pending) await admitRun(makeDb(this.env.DB), run);
        this.wakeAt = await this.engine(run).tick();
        run.next_wake_at = this.wakeAt !== undefined ? new Date(this.wakeAt).toISOString() : undefined;
        await this.faults.succeeded();
        return;
      } catch (err) {
        // A person changed the run while a call was in flight: go on from the changed state.
        if (err instanceof Superseded) continue;
        await this.fault(err);
        return;
      }
    }
  }

  /**
   * A tick failed (storage, a bug, a tool that throws): memory is not trusted, the run is read
   * again, and it is retried with backoff; a run that fails the same way MAX_CONSECUTIVE_FAULTS
   * times in a row ends `failed` with the error rather than retrying for ever.
   */
  private async fault(err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    log.error('run tick failed', { run_id: this.run?.id, error: errorFields(err) });
    const count = await this.faults.failed(message);
    await this.load();
    const run = this.run;
    if (!run || TERMINAL_RUN.has(run.status)) return;
    const retryMs = faultRetryMs(count);
    if (retryMs !== undefined) {
      this.wakeAt = Date.now() + retryMs;
      return;
    }
    try {
      await this.engine(run).finish('failed', `engine_error: ${message.slice(0, 500)} (after ${count} attempts)`, [], { type: 'system', id: 'run-engine' });
      this.wakeAt = undefined;
    } catch (again) {
      // Even ending the run fails: memory is reloaded, and the watchdog gives it another turn later.
      log.error('run could not be ended after repeated faults', { run_id: run.id, error: errorFields(again) });
      await this.load();
      this.wakeAt = undefined;
    }
  }

  /** Re-arms a run that has work left (steps, or an undelivered outbox) and no alarm (the watchdog's repair path). */
  async ensureScheduled(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const pending = !TERMINAL_RUN.has(run.status) && run.status !== 'awaiting_approval';
    if ((pending || !this.outbox.done(run.seq)) && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Resolves once the work in flight (ticks, and the copy to D1 and the audit log) is done. */
  async settle(): Promise<void> {
    await this.lock.run(async () => undefined);
    await this.loop;
    await this.deliver();
  }

  async view(): Promise<RunView | null> {
    return this.run ? runView(this.run) : null;
  }

  /** A step's whole result (`GET /runs/{id}/steps/{step}/result`), a large one read from where it is kept. */
  async stepResult(stepId: string): Promise<StepResult> {
    const step = this.run?.steps.find((s) => s.id === stepId);
    if (!step) return { found: false };
    if (step.result_ref) return { found: true, result: await this.invoker.resultOf(this.run!.tenantId, step.result_ref.key), ref: step.result_ref };
    return { found: true, result: step.result ?? null };
  }

  /** The run's agent calls in call order (`GET /runs/{id}/trace`). */
  async traces(): Promise<TraceRecord[]> {
    const listed = await this.ctx.storage.list<TraceRecord>({ prefix: TRACE_PREFIX });
    return [...listed.values()];
  }

  async events(after: number, limit = 500): Promise<RunEvent[]> {
    const listed = await this.ctx.storage.list<RunEvent>({ start: eventKey(after + 1), end: `${EVENT_PREFIX}~`, limit });
    return [...listed.values()];
  }

  /**
   * A person's change to the run, applied under the lock without waiting for any call in flight
   * (the change supersedes it), then copied to D1 and the audit log for up to a moment: what is
   * left is the outbox's to retry.
   */
  private async change<T>(name: string, attrs: Attributes, fn: (run: RunState) => Promise<RpcResult<T>>): Promise<RpcResult<T>> {
    const result = await this.lock.run(() => this.traced(name, this.run, attrs, async (): Promise<RpcResult<T>> => {
      const run = this.run;
      if (!run) return { ok: false, code: 'not_found', message: 'Run not found' };
      this.lock.interrupt();
      try {
        const out = await fn(run);
        // The engine looks at the changed run at once (an approved step starts, a cancel compensates).
        if (!TERMINAL_RUN.has(run.status)) {
          this.wakeAt = Date.now();
          await this.ctx.storage.setAlarm(this.wakeAt);
        }
        return out;
      } catch (err) {
        await this.load();
        throw err;
      }
    }));
    if (result.ok) {
      const delivered = this.deliverOrRetry();
      await Promise.race([delivered, new Promise((resolve) => setTimeout(resolve, ANSWER_DELIVERY_WAIT_MS))]);
    }
    return result;
  }

  /** Records one approval or denial of a waiting step. */
  async review(stepId: string, reviewer: Actor, verdict: 'approve' | 'deny', comment: string | undefined, canApprove: boolean): Promise<RpcResult<StepView>> {
    const attrs = { 'agentrunbook.step.id': stepId, 'agentrunbook.review.verdict': verdict };
    return this.change('run.review', attrs, async (run) => {
      const out = await this.engine(run).review(stepId, { ...reviewer, canApprove }, verdict, comment);
      return 'code' in out ? { ok: false, code: out.code, message: out.message } : { ok: true, value: stepView(out) };
    });
  }

  /** Stops the run at once (aborting the call in flight); with `compensate`, what it changed is undone first. */
  async cancel(actor: Actor, compensate: boolean): Promise<RpcResult<RunView>> {
    return this.change('run.cancel', { 'agentrunbook.cancel.compensate': compensate }, async (run) => {
      if (TERMINAL_RUN.has(run.status)) return { ok: false, code: 'conflict', message: `Run is already ${run.status}` };
      const refused = await this.engine(run).cancel(actor, compensate);
      return refused ? { ok: false, ...refused } : { ok: true, value: runView(run) };
    });
  }

  /** Tries the failed compensations of a finished run again (an sre's decision after looking). */
  async retryCompensation(actor: Actor): Promise<RpcResult<RunView>> {
    return this.change('run.compensation_retry', {}, async (run) => {
      if (!TERMINAL_RUN.has(run.status) || !run.compensation_failed?.length) {
        return { ok: false, code: 'conflict', message: 'Only a finished run whose compensation failed can have it retried' };
      }
      const done = await this.engine(run).retryCompensation(actor);
      return typeof done === 'object' ? { ok: false, ...done } : { ok: true, value: runView(run) };
    });
  }

  /** The live view (live-view.ts). */
  override fetch(request: Request): Promise<Response> {
    return openLiveView(this.watchers, request, this.run, (after, limit) => this.events(after, limit));
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    answerWatcher(this.watchers, ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    closeWatcher(ws, code);
  }
}
