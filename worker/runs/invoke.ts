import { and, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { toolCalls } from '../db/schema';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { IntegrationError } from '../integrations/errors';
import { withSpan, type Span } from '../observability/tracing';
import { ToolError, type IntegrationMode, type SimWorld, type ToolDef } from '../tools/types';

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
  world: Record<string, unknown>;
  mode?: IntegrationMode;
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
    const seen = call.fresh ? undefined : await this.recorded(call);
    if (seen) {
      replaceWorld(call.world, seen.world);
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
    const entry: LedgerEntry = outcome.ok
      ? { result: outcome.result, world, mode: outcome.mode }
      : {
          error: outcome.error,
          retryable: outcome.retryable,
          ...(outcome.retryAfterMs !== undefined ? { retryAt: new Date(Date.now() + outcome.retryAfterMs).toISOString() } : {}),
          world,
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

  private async recorded(call: ToolCall): Promise<LedgerEntry | undefined> {
    const own = await this.sink.recall?.(call.idempotencyKey);
    if (own) return own.result as LedgerEntry;
    const [row] = await this.db
      .select({ result: toolCalls.result })
      .from(toolCalls)
      .where(and(eq(toolCalls.tenantId, call.tenantId), eq(toolCalls.idempotencyKey, call.idempotencyKey)))
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
  const timeout = new Promise<never>((_, reject) => {
    if (call.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ToolError(`timed out after ${call.timeoutMs} ms`, true, 'timeout'));
      }, Math.max(0, call.timeoutMs));
    }
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
          mode: call.mode,
          world: worldOf(world),
          signal: controller.signal,
        }),
      ),
      timeout,
    ]);
    return { ok: true, result: call.tool.result.parse(raw), replayed: false };
  } catch (err) {
    if (err instanceof ToolError) {
      // A vendor's Retry-After (an IntegrationError's) travels with the failure to the engine.
      const retryAfterMs = err instanceof IntegrationError ? err.retryAfterMs : undefined;
      return { ok: false, error: err.message, retryable: err.retryable, replayed: false, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    return { ok: false, error: err instanceof Error ? err.message : String(err), retryable: false, replayed: false };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
