import type { z } from 'zod';
import { ACTIONS, toolFor } from './actions';
import type { ActionContext } from './actions/context';
import type { Allowlist } from './allowlist';
import { RelayError } from './errors';
import { fingerprint } from './idempotency';
import type { IdempotencyStore, Outcome } from './idempotency';
import type { Kube } from './kube';
import type { Logger } from './log';
import { isK8sAction, verifyCancel, verifyRequest } from '../contract/protocol';
import type { CancelMessage, K8sAction, Operation, RequestMessage, ResponseMessage } from '../contract/protocol';

export interface ExecutorOptions {
  cluster: string;
  /** From `deriveSigningKey(token)`. */
  signingKey: string;
  allowlist: Allowlist;
  store: IdempotencyStore;
  kube: Kube;
  log: Logger;
  self?: ActionContext['self'];
  /** Between eviction retries and deletion checks; kubectl waits 5s. */
  pollIntervalMs?: number;
  maxInFlight?: number;
}

interface Running {
  fingerprint: string;
  done: Promise<Outcome>;
  /** Aborts the action: at the deadline, or when the hub cancels. */
  controller: AbortController;
  /** The request ids (deliveries) waiting on this execution: a cancel must name one of them. */
  ids: Set<string>;
}

/** How long a cancel that arrived before its request started is remembered (they cross in flight). */
const EARLY_CANCEL_MS = 60_000;
const MAX_EARLY_CANCELS = 1000;

const issues = (error: z.ZodError) => error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

/**
 * Turns one request into exactly one response: signature, deadline, action and argument checks,
 * the local allowlist, then the idempotency cache, then the action. Never throws.
 */
export class Executor {
  private readonly running = new Map<string, Running>();
  /** Request ids cancelled before they started executing, until when. */
  private readonly cancelledEarly = new Map<string, number>();
  private readonly pollIntervalMs: number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: ExecutorOptions) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 5000;
    this.maxInFlight = opts.maxInFlight ?? 32;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Waits until nothing is executing, or `timeoutMs` passes (graceful shutdown). */
  async settle(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.running.values()].map((r) => r.done));
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /**
   * For a frame that is not a valid request: answers `invalid_request` when it at least names an
   * id and key to answer to, otherwise returns null (the caller logs it).
   */
  invalid(raw: unknown, error: z.ZodError): ResponseMessage | null {
    const r = (raw ?? {}) as { id?: unknown; idempotency_key?: unknown };
    if (typeof r.id !== 'string' || typeof r.idempotency_key !== 'string' || r.id === '' || r.idempotency_key === '') return null;
    const err = new RelayError('invalid_request', 'the request does not match the relay protocol', false, issues(error));
    return { type: 'response', id: r.id.slice(0, 128), idempotency_key: r.idempotency_key.slice(0, 256), ok: false, error: err.toBody(), replayed: false };
  }

  /**
   * The hub's cancel: aborts the execution the named delivery is waiting on, which then answers
   * `cancelled`. A cancel for a request not executing here changes nothing, except that one
   * overtaking its request (both are in flight at once) keeps that request from starting.
   */
  async cancel(msg: CancelMessage): Promise<void> {
    const log = { id: msg.id, idempotency_key: msg.idempotency_key };
    if (!(await verifyCancel(this.opts.signingKey, this.opts.cluster, msg))) {
      this.opts.log.warn("cancel ignored: its signature does not verify with this cluster's token", log);
      return;
    }
    const running = this.running.get(msg.idempotency_key);
    if (!running?.ids.has(msg.id)) {
      this.rememberEarlyCancel(msg.id);
      this.opts.log.info('cancel for a request not executing here; nothing to stop', log);
      return;
    }
    this.opts.log.info('request cancelled by the hub', log);
    running.controller.abort(new RelayError('cancelled', 'the hub cancelled the request (the caller gave up on it)', false));
  }

  private rememberEarlyCancel(id: string): void {
    const now = Date.now();
    for (const [k, until] of this.cancelledEarly) if (until <= now || this.cancelledEarly.size >= MAX_EARLY_CANCELS) this.cancelledEarly.delete(k);
    this.cancelledEarly.set(id, now + EARLY_CANCEL_MS);
  }

  private cancelledBeforeStart(id: string): boolean {
    const until = this.cancelledEarly.get(id);
    this.cancelledEarly.delete(id);
    return until !== undefined && until > Date.now();
  }

  async handle(req: RequestMessage): Promise<ResponseMessage> {
    const reply = (outcome: Outcome, replayed: boolean): ResponseMessage =>
      ({ type: 'response', id: req.id, idempotency_key: req.idempotency_key, ...outcome, replayed }) as ResponseMessage;
    const fail = (err: RelayError): ResponseMessage => reply({ ok: false, error: err.toBody() }, false);
    const log = { id: req.id, idempotency_key: req.idempotency_key, action: req.action };

    let action: K8sAction;
    let args: Record<string, unknown>;
    try {
      ({ action, args } = await this.check(req));
    } catch (err) {
      const e = err instanceof RelayError ? err : new RelayError('internal', String(err));
      this.opts.log.warn('request refused', { ...log, code: e.code, reason: e.message });
      return fail(e);
    }

    const dryRun = req.dry_run === true;
    const fp = fingerprint(action, args, dryRun);
    // Only writes are remembered: reads and dry runs change nothing, so repeating them is harmless.
    const remembered = toolFor(action).mutating && !dryRun;
    const conflict = new RelayError(
      'idempotency_conflict',
      `idempotency key ${req.idempotency_key} was already used for a different action or arguments`,
    );
    if (remembered) {
      const entry = this.opts.store.lookup(req.idempotency_key);
      if (entry && entry.fingerprint !== fp) return fail(conflict);
      if (entry?.outcome) {
        this.opts.log.info('request replayed from the idempotency cache', log);
        return reply(entry.outcome, true);
      }
    }
    const running = this.running.get(req.idempotency_key);
    if (running) {
      if (running.fingerprint !== fp) return fail(conflict);
      // A re-delivery (e.g. after a reconnect) while the first delivery still runs: share its outcome.
      running.ids.add(req.id);
      return reply(await running.done, true);
    }
    if (this.cancelledBeforeStart(req.id)) {
      this.opts.log.info('request cancelled before it started', log);
      return fail(new RelayError('cancelled', 'the hub cancelled the request before it started; nothing was done', false, { operations: [] }));
    }
    if (this.running.size >= this.maxInFlight) {
      return fail(new RelayError('busy', `the relay is already executing ${this.running.size} requests`, true));
    }

    const controller = new AbortController();
    const done = this.execute(req, action, args, fp, remembered, controller);
    this.running.set(req.idempotency_key, { fingerprint: fp, done, controller, ids: new Set([req.id]) });
    try {
      return reply(await done, false);
    } finally {
      this.running.delete(req.idempotency_key);
    }
  }

  /** Everything that can refuse a request before it acts, in the order a reader would expect. */
  private async check(req: RequestMessage): Promise<{ action: K8sAction; args: Record<string, unknown> }> {
    const { cluster, signingKey, allowlist } = this.opts;
    if (!(await verifyRequest(signingKey, cluster, req))) {
      throw new RelayError('unauthenticated', "the request's signature does not verify with this cluster's token");
    }
    if (req.deadline_ms <= Date.now()) throw new RelayError('deadline_exceeded', "the request's deadline passed before the relay received it", true);
    if (!isK8sAction(req.action) || !ACTIONS.has(req.action)) {
      throw new RelayError('unknown_action', `unknown action "${req.action}"; this relay implements ${[...ACTIONS.keys()].join(', ')}`);
    }
    allowlist.assertAction(req.action);
    const parsed = toolFor(req.action).args.safeParse(req.args);
    if (!parsed.success) {
      throw new RelayError('invalid_args', `invalid arguments for ${req.action}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`, false, issues(parsed.error));
    }
    const args = parsed.data as Record<string, unknown>;
    if (args.cluster !== cluster) {
      throw new RelayError('cluster_mismatch', `this relay serves cluster "${cluster}", not "${String(args.cluster)}"`);
    }
    if (typeof args.namespace === 'string') {
      const kind = 'pod' in args ? `pod ${args.namespace}/${String(args.pod)}` : `deployment ${args.namespace}/${String(args.name)}`;
      allowlist.assertNamespace(args.namespace, kind);
    }
    return { action: req.action, args };
  }

  private async execute(req: RequestMessage, action: K8sAction, args: Record<string, unknown>, fp: string, remembered: boolean, controller: AbortController): Promise<Outcome> {
    const { store, log } = this.opts;
    const key = req.idempotency_key;
    const dryRun = req.dry_run === true;
    if (remembered) store.begin(key, fp);
    const timer = setTimeout(() => controller.abort(new RelayError('deadline_exceeded', "the request's deadline passed", true)), Math.max(0, req.deadline_ms - Date.now()));
    const operations: Operation[] = [];
    const started = Date.now();
    const ctx: ActionContext = {
      kube: this.opts.kube,
      cluster: this.opts.cluster,
      dryRun,
      effectKey: req.effect_key ?? key,
      deadline: req.deadline_ms,
      signal: controller.signal,
      allowlist: this.opts.allowlist,
      self: this.opts.self ?? null,
      log,
      // Progress is journaled only for remembered requests; a dry run has nothing to resume.
      progress: remembered ? store.progress(key) : { get: () => undefined, set: async () => {} },
      record: (op) => void operations.push(op),
      pollIntervalMs: this.pollIntervalMs,
      now: Date.now,
      sleep: (ms) => sleep(ms, controller.signal),
    };
    const fields = { id: req.id, idempotency_key: key, action, args, dry_run: dryRun };
    let outcome: Outcome;
    try {
      const tool = toolFor(action);
      const result = tool.result.safeParse(await ACTIONS.get(action)!.run(args as never, ctx));
      if (!result.success) throw new RelayError('internal', `the relay built a ${action} result that does not match its schema`, false, issues(result.error));
      outcome = { ok: true, result: result.data, operations, dry_run: dryRun };
      log.info('request done', { ...fields, ms: Date.now() - started, operations: operations.length });
      if (remembered) await store.finish(key, outcome);
    } catch (err) {
      const e = failureOf(err, controller.signal, operations);
      outcome = { ok: false, error: e.toBody() };
      log.warn('request failed', { ...fields, ms: Date.now() - started, code: e.code, reason: e.message, operations: operations.length });
      // A failure that a retry may cure is not remembered, so the re-delivery tries again (resuming its progress).
      if (remembered) await (e.retryable ? store.abandon(key) : store.finish(key, outcome));
    } finally {
      clearTimeout(timer);
    }
    return outcome;
  }
}

/**
 * Why an execution failed. A cancel wins over whatever the aborted call threw (the client's
 * AbortError, mapped or not) and carries the writes done before it, which the caller cannot see
 * otherwise; at the deadline an action's own, more precise error (a drain's) stands.
 */
function failureOf(err: unknown, signal: AbortSignal, operations: Operation[]): RelayError {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (reason instanceof RelayError && reason.code === 'cancelled') {
    const done = operations.length === 0 ? 'nothing was changed' : `${operations.length} write(s) were done before it stopped`;
    return new RelayError('cancelled', `${reason.message}; ${done}`, false, { operations });
  }
  if (err instanceof RelayError) return err;
  if (reason instanceof RelayError) return reason;
  return new RelayError('internal', `unexpected failure: ${(err as Error)?.message ?? String(err)}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
