import { DurableObject } from 'cloudflare:workers';
import { createProvider, loadAgentConfig, type Provider } from '../worker/agents';
import type { AuditInput } from '../worker/audit/chain';
import { makeDb } from '../worker/db/client';
import type { Env } from '../worker/env';
import { LedgerInvoker, type LedgerRow, type ToolInvoker } from '../worker/runs/invoke';
import { liveBackends } from '../worker/runs/live';
import { recordFinalScore } from '../worker/shadow/store';
import { toolCalls } from '../worker/db/schema';
import { mirrorRun } from '../worker/runs/mirror';
import { admitRun, unadmitRun } from '../worker/runs/create';
import { limitCounts, reserveLimitSlot, tenantCostToday } from '../worker/policy/usage';
import { RunEngine, type PendingEvent } from '../worker/runs/engine';
import { loadRunHistory } from '../worker/runs/history';
import { registerSecrets } from '../worker/observability/log';
import { runTraceContext, traceInvocation, type Attributes, type SpanContext } from '../worker/observability/tracing';
import { recordRunSpan, runAttributes } from '../worker/runs/run-trace';
import {
  TERMINAL_RUN,
  runView,
  stepView,
  type Actor,
  type RunEvent,
  type RunState,
  type RunView,
  type StepView,
  type TraceRecord,
} from '../worker/runs/types';

export type RpcResult<T> = { ok: true; value: T } | { ok: false; code: 'not_found' | 'conflict' | 'forbidden'; message: string };

/** What `start` did: created the run, or found it (by its id) and whether by the same request. */
export interface StartOutcome {
  view: RunView;
  created: boolean;
  sameRequest: boolean;
}

const EVENT_PREFIX = 'ev:';
const LEDGER_PREFIX = 'ledger:';
/** Marks ledger rows not yet copied to D1, so a flush reads only those, not the whole ledger. */
const UNMIRRORED_PREFIX = 'ledger-unmirrored:';
/** Agent calls, one key each: the run state stays small however many calls a run makes. */
const TRACE_PREFIX = 'trace:';
const eventKey = (seq: number) => `${EVENT_PREFIX}${String(seq).padStart(10, '0')}`;
const traceKey = (seq: number) => `${TRACE_PREFIX}${String(seq).padStart(10, '0')}`;

/**
 * One run. Its state lives in this object's storage; every transition is persisted there with
 * its event before anything acts on it. Alarms drive the steps; D1 and the audit log are fed
 * from the persisted events through an outbox cursor, so a crash at any point loses nothing.
 */
export class RunDO extends DurableObject<Env> {
  private run: RunState | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly invoker: ToolInvoker;
  private dirtySteps = new Set<string>();
  /** The agents' provider, built once per run object from the environment (LLM_PROVIDER …). */
  private provider: Provider | undefined;
  /** The run's trace, derived from its id: hashed once per object, not on every alarm. */
  private traceParent: SpanContext | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    registerSecrets(env); // an object in a fresh isolate may log before any request registered them
    const db = makeDb(env.DB);
    this.invoker = new LedgerInvoker(
      db,
      {
        // The ledger row lands in this object's storage first (sub-millisecond, and before the next
        // transition is committed); flush() copies it to D1's tool_calls, where it is visible.
        record: (row) => ctx.storage.put({ [`${LEDGER_PREFIX}${row.idempotencyKey}`]: row, [`${UNMIRRORED_PREFIX}${row.idempotencyKey}`]: true }),
        recall: (key) => ctx.storage.get<LedgerRow>(`${LEDGER_PREFIX}${key}`),
      },
      liveBackends(env, db),
    );
    ctx.blockConcurrencyWhile(async () => {
      this.run = await ctx.storage.get<RunState>('run');
      // Which steps changed since the last copy to D1 was only known to the previous instance:
      // after a restart, copy them all once.
      for (const s of this.run?.steps ?? []) this.dirtySteps.add(s.id);
    });
  }

  /** Serialises every operation that changes the run: alarms, approvals and cancels never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
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
      agents: {
        // A misconfiguration throws AgentError('config') each time (nothing is cached), and the
        // engine fails the run with it rather than planning with the stub.
        provider: () => (this.provider ??= createProvider(loadAgentConfig(this.env))),
        history: () => loadRunHistory(db, run.tenantId, run.runbook.name, run.id),
      },
      governor: {
        tenantCostToday: () => tenantCostToday(db, run.tenantId, run.id, Date.now()),
        limitCounts: (toolId) => limitCounts(db, run.tenantId, run.policy, toolId, Date.now()),
        reserve: (stepId, toolId) => reserveLimitSlot(db, { tenantId: run.tenantId, runId: run.id, stepId, tool: toolId }, run.policy, Date.now()),
      },
    });
  }

  private async commit(run: RunState, pending: PendingEvent[], opts: { allSteps?: boolean } = {}): Promise<void> {
    const ts = new Date().toISOString();
    const summary = { status: run.status, ended_at: run.ended_at, cost_usd: run.cost_usd, tokens: run.tokens, reason: run.reason };
    if (opts.allSteps) for (const s of run.steps) this.dirtySteps.add(s.id);
    const entries: Record<string, unknown> = { run };
    const events: RunEvent[] = pending.map((e) => {
      const step = e.step ? run.steps.find((s) => s.id === e.step) : undefined;
      if (step) this.dirtySteps.add(step.id);
      // The trace is written with the state that was charged for it: never one without the other.
      if (e.trace) entries[traceKey(e.trace.seq)] = e.trace;
      return {
        seq: ++run.seq,
        ts,
        type: e.type,
        ...(e.message ? { message: e.message } : {}),
        ...(e.actor ? { actor: e.actor } : {}),
        run: summary,
        ...(step ? { step: stepView(step) } : {}),
        ...(e.trace ? { trace: e.trace } : {}),
        ...(e.hallucination ? { hallucination: e.hallucination } : {}),
      };
    });
    for (const ev of events) entries[eventKey(ev.seq)] = ev;
    await this.ctx.storage.put(entries);
    this.broadcast(events);
  }

  private broadcast(events: RunEvent[]): void {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    for (const ev of events) {
      const msg = JSON.stringify({ type: 'event', seq: ev.seq, event: ev });
      for (const ws of sockets) {
        try {
          ws.send(msg);
        } catch {
          // A socket that went away is cleaned up by webSocketClose.
        }
      }
    }
  }

  /**
   * Copies what was persisted to D1 (the listing mirror) and to the tenant's audit log.
   * Both are idempotent, so re-running after a crash is safe.
   */
  private async flush(run: RunState): Promise<void> {
    const db = makeDb(this.env.DB);
    const steps = run.steps.filter((s) => this.dirtySteps.has(s.id));
    await mirrorRun(db, run, steps);
    this.dirtySteps.clear();
    await this.flushLedger(db);
    if (run.audited_seq < run.seq) {
      const listed = await this.ctx.storage.list<RunEvent>({ start: eventKey(run.audited_seq + 1), end: eventKey(run.seq + 1) });
      const entries = [...listed.values()].map((ev) => auditEntry(run, ev));
      await this.env.AUDIT.get(this.env.AUDIT.idFromName(run.tenantId)).append(run.tenantId, entries);
      run.audited_seq = run.seq;
      await this.ctx.storage.put('run', run);
    }
    // A finished shadow run is scored once (idempotent), so dashboards need not wait for a reader.
    if (run.mode === 'shadow' && TERMINAL_RUN.has(run.status)) await recordFinalScore(this.env, db, run.tenantId, runView(run));
    // The root span, once: the mark is stored before the span is handed over, so a flush repeated
    // after a crash does not send it again (a crash in between loses it: at most once, by choice).
    if (TERMINAL_RUN.has(run.status) && !run.root_span_recorded) {
      run.root_span_recorded = true;
      await this.ctx.storage.put('run', run);
      recordRunSpan(this.env, (p) => this.ctx.waitUntil(p), run);
    }
  }

  /** Copies the ledger rows not yet in D1 (inserts are idempotent, so a repeat after a crash is harmless). */
  private async flushLedger(db: ReturnType<typeof makeDb>): Promise<void> {
    const marks = [...(await this.ctx.storage.list({ prefix: UNMIRRORED_PREFIX })).keys()];
    // Storage reads and deletes take at most 128 keys at a time.
    for (let i = 0; i < marks.length; i += 128) {
      const chunk = marks.slice(i, i + 128);
      const rows = [...(await this.ctx.storage.get<LedgerRow>(chunk.map((m) => `${LEDGER_PREFIX}${m.slice(UNMIRRORED_PREFIX.length)}`))).values()];
      if (rows.length > 0) {
        const inserts = rows.map((row) => db.insert(toolCalls).values(row).onConflictDoNothing());
        await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
      }
      await this.ctx.storage.delete(chunk);
    }
  }

  /**
   * Creates the run and arms its first alarm. Idempotent for the same id: a run that exists is
   * answered as it is (`created: false`), and `sameRequest` says whether the request that created
   * it had the same hash (an Idempotency-Key reused for another request is the caller's to refuse).
   */
  async start(init: RunState): Promise<StartOutcome> {
    return this.exclusive(() => this.traced('run.start', init, {}, async (): Promise<StartOutcome> => {
      if (this.run) return { view: runView(this.run), created: false, sameRequest: this.run.request_hash === init.request_hash };
      const run = structuredClone(init);
      for (const s of run.steps) this.dirtySteps.add(s.id);
      try {
        await this.commit(run, [{ type: 'run.created', actor: { type: run.actor.type, id: run.actor.id }, message: `Run of ${run.runbook.name} v${run.runbook.version} (${run.mode})` }]);
        // Armed with the state, before the copy to D1: a process killed after the D1 row is
        // written must not leave a run that nothing wakes (it would stay queued until read).
        await this.ctx.storage.setAlarm(Date.now());
        await admitRun(makeDb(this.env.DB), run);
        await this.flush(run);
      } catch (err) {
        // Nothing half-written: without its D1 row nobody could see or resume this run, and a row
        // without the run would be listed as queued forever.
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        await unadmitRun(makeDb(this.env.DB), run).catch(() => undefined);
        throw err;
      }
      this.run = run;
      return { view: runView(run), created: true, sameRequest: true };
    }, [init.started_by_span]));
  }

  /** Works on the run now rather than when its alarm comes (ad-hoc calls answer with their outcome). */
  async kick(): Promise<RunView | null> {
    return this.exclusive(() => this.traced('run.kick', this.run, {}, async () => {
      await this.work();
      return this.run ? runView(this.run) : null;
    }));
  }

  override async alarm(): Promise<void> {
    await this.exclusive(() => this.traced('run.alarm', this.run, {}, () => this.work()));
  }

  /** One tick of the engine, then the copy to D1 and the audit log; callers hold the lock. */
  private async work(): Promise<void> {
    const run = this.run;
    if (!run) return;
    let wake: number | undefined;
    try {
      // The process died between start()'s commit and the budget check: check it now.
      if (run.admission_pending) await admitRun(makeDb(this.env.DB), run);
      wake = await this.engine(run).tick();
    } finally {
      await this.flush(run);
    }
    if (wake !== undefined && !TERMINAL_RUN.has(run.status)) await this.ctx.storage.setAlarm(wake);
  }

  /** Re-arms the alarm of a run that is not finished and has none (a repair path, cheap to call). */
  async ensureScheduled(): Promise<void> {
    if (!this.run || TERMINAL_RUN.has(this.run.status)) return;
    if ((await this.ctx.storage.getAlarm()) === null && this.run.status !== 'awaiting_approval') {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  /** Resolves once the work in flight (an alarm's tick and its flush to D1 and the audit log) is done. */
  async settle(): Promise<void> {
    await this.exclusive(async () => undefined);
  }

  async view(): Promise<RunView | null> {
    return this.run ? runView(this.run) : null;
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

  /** Records one approval or denial of a waiting step. */
  async review(
    stepId: string,
    reviewer: Actor,
    verdict: 'approve' | 'deny',
    comment: string | undefined,
    canApprove: boolean,
  ): Promise<RpcResult<StepView>> {
    const attrs = { 'agentrunbook.step.id': stepId, 'agentrunbook.review.verdict': verdict };
    return this.exclusive(() => this.traced('run.review', this.run, attrs, async (): Promise<RpcResult<StepView>> => {
      const run = this.run;
      if (!run) return { ok: false, code: 'not_found', message: 'Run not found' };
      const step = run.steps.find((s) => s.id === stepId);
      if (!step) return { ok: false, code: 'not_found', message: `Step ${stepId} not found` };
      if (step.status !== 'awaiting_approval') {
        return { ok: false, code: 'conflict', message: `Step ${stepId} is ${step.status}, not awaiting approval` };
      }
      if (step.approval_expires_at && Date.now() >= Date.parse(step.approval_expires_at)) {
        // The alarm that records the expiry may not have run yet; the request is over all the same.
        await this.work();
        return { ok: false, code: 'conflict', message: `The approval request for step ${stepId} expired at ${step.approval_expires_at}` };
      }
      const req = step.decision?.approval;
      if (!canApprove || (req && !req.roles.includes(reviewer.role))) {
        const roles = req ? req.roles.join(', ') : 'an approver role';
        return { ok: false, code: 'forbidden', message: `Role "${reviewer.role}" may not review this step (needs ${roles})` };
      }
      if (req?.distinct_from_requester && reviewer.id === run.actor.id) {
        return { ok: false, code: 'forbidden', message: 'The policy requires an approver other than the person who started the run' };
      }
      if (step.approvals.some((a) => a.actor.id === reviewer.id && a.args_hash === step.args_hash)) {
        return { ok: false, code: 'conflict', message: 'You have already reviewed this step' };
      }
      const actor = { type: reviewer.type, id: reviewer.id };
      step.approvals.push({
        actor,
        role: reviewer.role,
        verdict,
        ...(comment ? { comment } : {}),
        at: new Date().toISOString(),
        args_hash: step.args_hash ?? '',
      });
      this.dirtySteps.add(step.id);
      const engine = this.engine(run);
      if (verdict === 'deny') {
        await engine.failStep(step, `Denied by ${reviewer.id}${comment ? `: ${comment}` : ''}`, 'denied', actor);
      } else {
        const needed = req?.count ?? 1;
        const given = step.approvals.filter((a) => a.verdict === 'approve' && a.args_hash === step.args_hash).length;
        const events: PendingEvent[] = [{ type: 'step.approved', step: step.id, actor, message: `Approved by ${reviewer.id} (${given}/${needed})${comment ? `: ${comment}` : ''}` }];
        if (given >= needed) {
          step.status = 'pending';
          step.approval_expires_at = undefined;
          run.status = 'running';
        }
        await this.commit(run, events);
      }
      await this.flush(run);
      if (!TERMINAL_RUN.has(run.status)) await this.ctx.storage.setAlarm(Date.now());
      return { ok: true, value: stepView(step) };
    }));
  }

  /** Stops the run: nothing further starts; with `compensate`, completed changes are undone first. */
  async cancel(actor: { type: string; id: string }, compensate: boolean): Promise<RpcResult<RunView>> {
    return this.exclusive(() => this.traced('run.cancel', this.run, { 'agentrunbook.cancel.compensate': compensate }, async (): Promise<RpcResult<RunView>> => {
      const run = this.run;
      if (!run) return { ok: false, code: 'not_found', message: 'Run not found' };
      if (TERMINAL_RUN.has(run.status)) return { ok: false, code: 'conflict', message: `Run is already ${run.status}` };
      const reason = `Cancelled by ${actor.id}`;
      for (const s of run.steps) {
        if (s.status === 'pending' || s.status === 'awaiting_approval' || s.status === 'running') {
          s.status = 'skipped';
          s.wake_at = undefined;
          this.dirtySteps.add(s.id);
        }
      }
      run.cursor = run.steps.length;
      const engine = this.engine(run);
      if (compensate) engine.queueCompensation();
      if (run.compensate.length > 0) {
        run.reason = reason;
        run.outcome = 'cancelled';
        await this.commit(run, [{ type: 'run.compensating', actor, message: `${reason}; compensating ${run.compensate.join(', ')}` }]);
        await this.ctx.storage.setAlarm(Date.now());
      } else {
        await engine.finish('cancelled', reason, [], actor);
      }
      await this.flush(run);
      return { ok: true, value: runView(run) };
    }));
  }

  /** The live view: a hibernatable WebSocket that gets a snapshot (or the events after `?after=N`). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('Expected a WebSocket upgrade', { status: 426 });
    const run = this.run;
    if (!run) return new Response('Run not found', { status: 404 });
    const afterParam = new URL(request.url).searchParams.get('after');
    const after = afterParam !== null && /^\d+$/.test(afterParam) ? Number(afterParam) : undefined;
    const messages: string[] = [];
    if (after === undefined || after > run.seq) {
      messages.push(JSON.stringify({ type: 'snapshot', seq: run.seq, run: runView(run) }));
    } else {
      for (let from = after; ; ) {
        const missed = await this.events(from, 500);
        for (const ev of missed) messages.push(JSON.stringify({ type: 'event', seq: ev.seq, event: ev }));
        if (missed.length < 500) break;
        from = missed[missed.length - 1]!.seq;
      }
    }
    // Accept only after the last read: from here on every commit is broadcast to this socket, and
    // none can slip in between, so the client sees each event exactly once.
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    for (const m of messages) server.send(m);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Clients only listen; a ping gets a pong so proxies keep the connection open.
    if (message === 'ping') ws.send('pong');
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing');
    } catch {
      // Already closed.
    }
  }
}

function auditEntry(run: RunState, ev: RunEvent): AuditInput {
  return {
    ts: ev.ts,
    actor: ev.actor ?? { type: 'system', id: 'run-engine' },
    action: ev.type.startsWith('run.') ? ev.type : `run.${ev.type}`,
    resource: { type: 'run', id: run.id },
    data: {
      seq: ev.seq,
      ...(ev.message ? { message: ev.message } : {}),
      run_status: ev.run.status,
      ...(ev.step
        ? {
            step: ev.step.id,
            tool: ev.step.tool,
            status: ev.step.status,
            attempts: ev.step.attempts,
            ...(ev.type === 'step.started' || ev.type === 'step.awaiting_approval' ? { args: ev.step.args } : {}),
            ...(ev.step.decision && ev.type !== 'step.started' ? { decision: { effect: ev.step.decision.effect, reasons: ev.step.decision.reasons } } : {}),
            ...(ev.type === 'step.succeeded' ? { result: ev.step.result } : {}),
            ...(ev.step.error ? { error: ev.step.error } : {}),
          }
        : {}),
      // An agent call is audited by what it was and cost; its full answer is in the run's trace.
      ...(ev.trace ? { agent: auditedTrace(ev.trace) } : {}),
      ...(ev.hallucination ? { hallucination: ev.hallucination } : {}),
    },
    source_key: `run:${run.id}:${ev.seq}`,
  };
}

function auditedTrace(t: TraceRecord): Record<string, unknown> {
  return {
    seq: t.seq,
    agent: t.agent,
    ...(t.step !== undefined ? { step: t.step } : {}),
    provider: t.provider,
    model: t.model,
    prompt_version: t.prompt_version,
    prompt_hash: t.prompt_hash,
    input_tokens: t.input_tokens,
    output_tokens: t.output_tokens,
    cost_usd: t.cost_usd,
    latency_ms: t.latency_ms,
    ...(t.error ? { error: t.error } : {}),
  };
}
