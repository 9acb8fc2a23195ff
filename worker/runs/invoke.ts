import { and, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { toolCalls } from '../db/schema';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { IntegrationError } from '../integrations/errors';
import { withSpan, type Span } from '../observability/tracing';
import { ToolError, type IntegrationMode, type SimWorld, type ToolDef } from '../tools/types';
import { jsonBytes, MAX_RESULT_BYTES } from './results';

export interface ToolCall {
  tool: ToolDef;
  args: Record<string, unknown>;
  idempotencyKey: string;
  /**
   * What the call's side effect is marked with at a vendor that has no idempotency keys of its own
   * (the label of a Jira issue, the hidden marker in a GitHub body, a PagerDuty incident_key): the
   * same for every attempt of one step, so an attempt after a failure whose effect happened anyway
   * (the vendor acted, then answered 500 or went silent) finds it instead of acting again. The
   * ledger, the relay and spans keep the attempt's own key. Defaults to the idempotency key.
   */
  effectKey?: string;
  tenantId: string;
  runId: string;
  stepId: string;
  mode: IntegrationMode;
  /** The run's simulated world; the call may change it. */
  world: Record<string, unknown>;
  /** Milliseconds the call may take before it is abandoned as timed out. */
  timeoutMs?: number;
  /**
   * Aborts the call (the run was cancelled): it is abandoned at once and nothing is recorded, since
   * whether it acted is not known. The promise rejects with `CallAborted`.
   */
  signal?: AbortSignal;
  /**
   * The key was minted (and persisted) just before this call, so no earlier delivery can exist:
   * the ledger lookup is skipped. Re-deliveries after a crash leave this unset.
   */
  fresh?: boolean;
}

export type ToolOutcome =
  | { ok: true; result: unknown; replayed: boolean; mode?: IntegrationMode }
  | {
      ok: false;
      error: string;
      retryable: boolean;
      replayed: boolean;
      mode?: IntegrationMode;
      /** How long the vendor asked to be left alone (Retry-After): the engine's next attempt waits at least this. */
      retryAfterMs?: number;
    };

/** Performs one call against the real system (a vendor API, a cluster's relay). */
export type LiveCall = (call: {
  tool: string;
  args: Record<string, unknown>;
  idempotencyKey: string;
  /** The step's mark at the vendor (see ToolCall.effectKey); absent, the idempotency key is the mark. */
  effectKey?: string;
  signal: AbortSignal;
  timeoutMs?: number;
}) => Promise<unknown>;

/**
 * Where live calls go. `undefined` means the tool runs simulated for this tenant (its integration
 * is in simulated mode, not configured, or the tool has no live form).
 */
export interface LiveBackends {
  executorFor(tenantId: string, toolId: string, args: Record<string, unknown>): Promise<{ call: LiveCall; secrets: string[] } | undefined>;
}

export interface ToolInvoker {
  invoke(call: ToolCall): Promise<ToolOutcome>;
}

export type LedgerRow = typeof toolCalls.$inferInsert;

/**
 * Where the ledger's rows are recorded. D1 by default; a run's Durable Object records them in its
 * own storage (fast, and atomic with nothing else to lose) and copies them to D1 when it flushes.
 */
export interface LedgerSink {
  record(row: LedgerRow): Promise<void>;
  /** A row recorded earlier with this key, if the sink keeps its own copy. */
  recall?(key: string): Promise<LedgerRow | undefined>;
}

interface LedgerEntry {
  result?: unknown;
  error?: string;
  retryable?: boolean;
  /** When the vendor said a retry may come (its Retry-After, made absolute when it was recorded). */
  retryAt?: string;
  /** The simulated world's keys the call changed, with their new values (null: removed). */
  world_changes?: Record<string, unknown>;
  /** The whole world after the call (rows recorded by earlier versions). */
  world?: Record<string, unknown>;
  mode?: IntegrationMode;
}

/** A call abandoned because its run was cancelled: its outcome is unknown and was not recorded. */
export class CallAborted extends Error {
  constructor() {
    super('The call was abandoned: its run was cancelled');
    this.name = 'CallAborted';
  }
}

function worldOf(state: Record<string, unknown>): SimWorld {
  return {
    get: <T>(key: string) => state[key] as T | undefined,
    set: (key, value) => {
      state[key] = value;
    },
  };
}

/**
 * Runs tools against the simulated integrations. The ledger (D1 `tool_calls`) is the vendor's
 * memory of idempotency keys: a call repeated with a key it has seen returns the recorded
 * outcome and world, so a run that resumes after a crash never acts twice.
 */
export class LedgerInvoker implements ToolInvoker {
  constructor(
    private readonly db: DB,
    private readonly sink: LedgerSink = { record: async (row) => void (await db.insert(toolCalls).values(row)) },
    private readonly live?: LiveBackends,
  ) {}

  /**
   * One `tool <id>` span per call: which tool, its idempotency key, whether it went to the vendor
   * (kind `client`) or the simulation, whether the ledger answered it. Never its arguments or
   * result (they may hold a tenant's data or a secret a vendor echoed).
   */
  invoke(call: ToolCall): Promise<ToolOutcome> {
    const attrs = { 'agentrunbook.tool': call.tool.id, 'agentrunbook.idempotency_key': call.idempotencyKey, 'agentrunbook.step.id': call.stepId };
    return withSpan(`tool ${call.tool.id}`, attrs, async (span) => {
      const outcome = await this.deliver(call);
      annotate(span, outcome);
      return outcome;
    });
  }

  private async deliver(call: ToolCall): Promise<ToolOutcome> {
    const seen = call.fresh ? undefined : await this.recorded(call.tenantId, call.idempotencyKey);
    if (seen) {
      if (seen.world) replaceWorld(call.world, seen.world);
      else applyChanges(call.world, seen.world_changes ?? {});
      const mode = seen.mode ? { mode: seen.mode } : {};
      if (seen.error === undefined) return { ok: true, result: seen.result, replayed: true, ...mode };
      // A replayed failure keeps what is left of the vendor's Retry-After, so the next attempt still waits for it.
      const retryAt = seen.retryAt !== undefined ? Date.parse(seen.retryAt) : NaN;
      const wait = Number.isFinite(retryAt) ? { retryAfterMs: Math.max(0, retryAt - Date.now()) } : {};
      return { ok: false, error: seen.error, retryable: seen.retryable ?? false, replayed: true, ...wait, ...mode };
    }

    const world = structuredClone(call.world);
    // Live only when the run allows it and the tenant has this tool's integration in live mode.
    const backend = call.mode === 'live' ? await this.live?.executorFor(call.tenantId, call.tool.id, call.args).catch((err: unknown) => err as Error) : undefined;
    const outcome: ToolOutcome =
      backend instanceof Error
        ? { ok: false, error: `Integration unavailable: ${backend.message}`, retryable: true, replayed: false, mode: 'live' }
        : backend
          ? { ...scrubOutcome(await runWithTimeout(call, world, backend.call), backend.secrets), mode: 'live' }
          : { ...(await runWithTimeout(call, world)), mode: 'simulated' };
    const changes = worldChanges(call.world, world);
    const entry: LedgerEntry = outcome.ok
      ? { result: outcome.result, world_changes: changes, mode: outcome.mode }
      : {
          error: outcome.error,
          retryable: outcome.retryable,
          ...(outcome.retryAfterMs !== undefined ? { retryAt: new Date(Date.now() + outcome.retryAfterMs).toISOString() } : {}),
          world_changes: changes,
          mode: outcome.mode,
        };
    await this.sink.record({
      idempotencyKey: call.idempotencyKey,
      tenantId: call.tenantId,
      runId: call.runId,
      stepId: call.stepId,
      tool: call.tool.id,
      mode: outcome.mode ?? call.mode,
      argsHash: await sha256Hex(canonicalJson(call.args)),
      result: entry,
      error: outcome.ok ? null : outcome.error,
      createdAt: new Date().toISOString(),
    });
    replaceWorld(call.world, world);
    return outcome;
  }

  /** The result recorded under this key (a large step result is kept out of line there). */
  async resultOf(tenantId: string, key: string): Promise<unknown> {
    return (await this.recorded(tenantId, key))?.result;
  }

  private async recorded(tenantId: string, key: string): Promise<LedgerEntry | undefined> {
    const own = await this.sink.recall?.(key);
    if (own) return own.result as LedgerEntry;
    const [row] = await this.db
      .select({ result: toolCalls.result })
      .from(toolCalls)
      .where(and(eq(toolCalls.tenantId, tenantId), eq(toolCalls.idempotencyKey, key)))
      .limit(1);
    return row?.result as LedgerEntry | undefined;
  }
}

/** The outcome on the call's span: where it went, whether the ledger answered, and why it failed. */
function annotate(span: Span, outcome: ToolOutcome): void {
  // A call on the live path is a client call (to the vendor, or its relay); a replay from the ledger went nowhere.
  if (outcome.mode === 'live' && !outcome.replayed) span.setKind('client');
  span.setAttributes({ 'agentrunbook.integration_mode': outcome.mode, 'agentrunbook.tool.replayed': outcome.replayed });
  if (outcome.ok) return;
  span.setAttributes({ 'agentrunbook.tool.retryable': outcome.retryable, 'agentrunbook.tool.retry_after_ms': outcome.retryAfterMs });
  span.fail(outcome.error);
}

/** The keys of `after` that differ from `before` (null for a key removed): a ledger row keeps only these. */
function worldChanges(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(value) !== JSON.stringify(before[key])) changes[key] = value;
  }
  for (const key of Object.keys(before)) if (!(key in after)) changes[key] = null;
  return changes;
}

function applyChanges(target: Record<string, unknown>, changes: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete target[key];
    else target[key] = value;
  }
}

function replaceWorld(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, source);
}

/**
 * A vendor may echo what it was sent; the tenant's stored secrets never reach a run's result,
 * its events or the audit log.
 */
function scrubOutcome(outcome: ToolOutcome, secrets: string[]): ToolOutcome {
  const live = secrets.filter((s) => s.length >= 6);
  if (live.length === 0) return outcome;
  const scrub = (text: string) => live.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
  if (!outcome.ok) return { ...outcome, error: scrub(outcome.error) };
  const json = JSON.stringify(outcome.result);
  if (json === undefined || !live.some((s) => json.includes(s))) return outcome;
  return { ...outcome, result: JSON.parse(scrub(json)) };
}

async function runWithTimeout(call: ToolCall, world: Record<string, unknown>, live?: LiveCall): Promise<ToolOutcome> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    if (call.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ToolError(`timed out after ${call.timeoutMs} ms`, true, 'timeout'));
      }, Math.max(0, call.timeoutMs));
    }
    // The run was cancelled: the call is abandoned now (and told so, for the relay to stop too).
    onAbort = () => {
      controller.abort();
      reject(new CallAborted());
    };
    if (call.signal?.aborted) onAbort();
    else call.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const parsedArgs = call.tool.args.parse(call.args);
    const raw = await Promise.race([
      Promise.resolve(
        live
          ? live({
              tool: call.tool.id,
              args: parsedArgs as Record<string, unknown>,
              idempotencyKey: call.idempotencyKey,
              effectKey: call.effectKey,
              signal: controller.signal,
              timeoutMs: call.timeoutMs,
            })
          : call.tool.simulate(parsedArgs, {
          tenantId: call.tenantId,
          runId: call.runId,
          stepId: call.stepId,
          idempotencyKey: call.idempotencyKey,
          effectKey: call.effectKey ?? call.idempotencyKey,
          mode: call.mode,
          world: worldOf(world),
          signal: controller.signal,
        }),
      ),
      timeout,
    ]);
    const result = call.tool.result.parse(raw);
    const bytes = jsonBytes(result);
    if (bytes > MAX_RESULT_BYTES) return { ok: false, error: `result too large: ${bytes} bytes (at most ${MAX_RESULT_BYTES}); narrow the query`, retryable: false, replayed: false };
    return { ok: true, result, replayed: false };
  } catch (err) {
    if (err instanceof CallAborted) throw err;
    if (err instanceof ToolError) {
      // A vendor's Retry-After (an IntegrationError's) travels with the failure to the engine.
      const retryAfterMs = err instanceof IntegrationError ? err.retryAfterMs : undefined;
      return { ok: false, error: err.message, retryable: err.retryable, replayed: false, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    return { ok: false, error: err instanceof Error ? err.message : String(err), retryable: false, replayed: false };
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) call.signal?.removeEventListener('abort', onAbort);
  }
}
