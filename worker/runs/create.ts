import type { DB } from '../db/client';
import type { Env, Principal } from '../env';
import { canonicalJson, newId, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { resolveInputs } from '../runbooks';
import { activePolicy } from '../store/policies';
import { RUNS_PER_HOUR_PREFIX, reserveRunSlot } from '../policy/usage';
import { clusters, integrations, runs, shadowExpectations, tenants } from '../db/schema';
import { and, eq, exists, sql } from 'drizzle-orm';
import { runClient } from './client';
import { runExists, runRow } from './mirror';
import { shadowHook } from '../shadow/hook';
import { currentRunbook } from '../store/runbooks';
import type { RunMode, RunState, RunView } from './types';
import type { Runbook } from '../runbooks/types';
import { roleOf } from '../policy/schema';
import { platformCeilings, withCeilings } from '../policy/ceilings';
import { currentTraceparent } from '../observability/tracing';

export interface CreateRunRequest {
  runbook: string;
  inputs?: Record<string, unknown>;
  context?: Record<string, unknown>;
  mode: RunMode;
  /** Shadow mode: the expected plan, or a finished run to compare with. */
  expected?: { tool: string; args?: Record<string, unknown> }[];
  reference_run?: string;
}

/** The Durable Object that holds a run. Its name includes the tenant, so ids never cross tenants. */
export { runStub } from './client';

/**
 * Validates a run request against the runbook and the active policy, then hands the run to
 * its Durable Object. Nothing is written unless the request is valid.
 */
export async function createRun(env: Env, db: DB, principal: Principal, req: CreateRunRequest, idempotencyKey?: string): Promise<Started> {
  const runbook = await currentRunbook(db, principal.tenantId, req.runbook);
  if (!runbook || runbook.archivedAt) throw ApiError.validation([{ path: 'runbook', message: runbook ? `runbook "${req.runbook}" is archived` : `no runbook "${req.runbook}"` }]);
  const inputs = resolveInputs(runbook.spec, req.inputs ?? {});
  if (!inputs.ok) throw ApiError.validation(inputs.errors.map((e) => ({ ...e, path: `inputs.${e.path}`.replace(/^inputs\.inputs\./, 'inputs.') })));
  // Shadow runs: the expectation is checked (400 naming the field) and stored before the run starts.
  const shadow = await shadowHook(env, db, principal.tenantId, req);
  const id = idempotencyKey === undefined ? newId('run') : await idempotentRunId(principal.tenantId, 'runs', idempotencyKey);
  const start: StartRunRequest = {
    id,
    runbook: { id: runbook.id, name: runbook.name, version: runbook.version },
    spec: runbook.spec,
    inputs: inputs.inputs,
    context: req.context ?? {},
    mode: req.mode,
    // The request as the caller sent it: a retry after the runbook changed still finds its run.
    ...(idempotencyKey === undefined ? {} : { requestHash: await sha256Hex(canonicalJson(req)) }),
  };
  if (idempotencyKey !== undefined) {
    // A retry: its run exists (and its expectation is stored); the run object tells retry from reuse.
    if (await runExists(db, principal.tenantId, id)) return startRun(env, db, principal, start);
  }
  // Requests racing with one key: one stores the expectation, the run object takes one run. (Two
  // *different* shadow requests racing so may leave the run with the other's expectation; the
  // one that lost is told its key was reused, 409.)
  const saved = await shadow.save(id);
  try {
    return await startRun(env, db, principal, start);
  } catch (err) {
    // Nothing half-written: a run that did not start keeps no expectation — unless the run is
    // another request's (the same key, reused), whose expectation this is.
    const othersRun = err instanceof ApiError && err.code === 'conflict';
    if (saved && !othersRun) await db.delete(shadowExpectations).where(and(eq(shadowExpectations.tenantId, principal.tenantId), eq(shadowExpectations.runId, id)));
    throw err;
  }
}

export interface StartRunRequest {
  /** A fixed id (ad-hoc calls derive it from their idempotency key); a fresh one otherwise. */
  id?: string;
  runbook: RunState['runbook'];
  spec: Runbook;
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  mode: RunMode;
  /** The step arguments are final values, not templates (ad-hoc tool calls). */
  literalArgs?: boolean;
  /** With an id derived from an Idempotency-Key: the hash of the request, to tell a retry from a reuse. */
  requestHash?: string;
}

/** A started run, and whether it already existed (a retry with the same Idempotency-Key). */
export interface Started {
  run: RunView;
  replayed: boolean;
}

/** Checks the caller may run under the active policy, then hands the run to its Durable Object. */
export async function startRun(env: Env, db: DB, principal: Principal, req: StartRunRequest): Promise<Started> {
  const policy = await activePolicy(db, principal.tenantId);
  const role = roleOf(policy.spec, principal.role);
  if (!role?.run) throw new ApiError('forbidden', `Role "${principal.role}" may not start runs under policy "${policy.spec.metadata.name}"`);

  const id = req.id ?? newId('run');
  const startedBy = currentTraceparent();
  const init: RunState = {
    id,
    tenantId: principal.tenantId,
    runbook: req.runbook,
    spec: req.spec,
    // The tenant's budgets, held under the platform's ceilings: a policy cannot lift those.
    policy: withCeilings(policy.spec, platformCeilings(env)),
    policyId: policy.id,
    mode: req.mode,
    status: 'queued',
    inputs: req.inputs,
    context: req.context,
    actor: { type: principal.actor.type, id: principal.actor.id, role: principal.role, ...(principal.person ? { person: principal.person } : {}) },
    // Live when the tenant set an integration to live mode; each call still runs simulated where its
    // own integration is not live (the step records which one it was).
    integrationMode:
      req.mode === 'execute' && (await tenantHasLiveTargets(db, principal.tenantId)) ? 'live' : 'simulated',
    created_at: new Date().toISOString(),
    cost_usd: 0,
    tokens: 0,
    steps: req.spec.spec.steps.map((s, idx) => ({ id: s.id, idx, tool: s.tool, status: 'pending', attempts: 0, approvals: [] })),
    cursor: 0,
    compensate: [],
    world: {},
    seq: 0,
    audited_seq: 0,
    ...(req.literalArgs ? { literal_args: true } : {}),
    ...(req.requestHash ? { request_hash: req.requestHash } : {}),
    // The request (or webhook delivery) that starts the run: the run's trace links back to it.
    ...(startedBy ? { started_by_span: startedBy } : {}),
    // The runs-per-hour budget is checked by the run's object (admitRun), once it holds the run.
    admission_pending: true,
  };
  // A run object that cannot take a new run undoes what it wrote itself (RunDO.start, unadmitRun);
  // the Worker deletes nothing here: after a failed RPC the run may exist (a retry's, or one the
  // object took before the connection dropped), and its row is then its own.
  const outcome = await runClient(env, principal.tenantId, id).start(init);
  if (!outcome.sameRequest) throw idempotencyConflict();
  return { run: outcome.view, replayed: !outcome.created };
}

/**
 * Whether the tenant set an integration live or ever registered a cluster (revoked ones count: a
 * call on a revoked cluster then fails on the live path instead of being simulated). One query.
 */
async function tenantHasLiveTargets(db: DB, tenantId: string): Promise<boolean> {
  const liveIntegration = db.select({ one: sql`1` }).from(integrations).where(and(eq(integrations.tenantId, tenantId), eq(integrations.mode, 'live')));
  const cluster = db.select({ one: sql`1` }).from(clusters).where(eq(clusters.tenantId, tenantId));
  const [row] = await db
    .select({ live: sql<number>`(${exists(liveIntegration)} or ${exists(cluster)})` })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  return Boolean(row?.live);
}

export function idempotencyConflict(): ApiError {
  return new ApiError('conflict', 'This Idempotency-Key was already used for a different request; use a new key for a new request');
}

/**
 * The run id an Idempotency-Key stands for: derived, so a retry — even one racing the first —
 * reaches the same run object, which takes a run once. `scope` keeps each route's keys apart.
 */
export async function idempotentRunId(tenantId: string, scope: 'runs' | 'tools', key: string): Promise<string> {
  // Ad-hoc tool calls were keyed before runs were: their ids stay as they were.
  const name = scope === 'tools' ? `${tenantId}:${key}` : `${tenantId}:${scope}:${key}`;
  return `run_idem_${(await sha256Hex(name)).slice(0, 32)}`;
}

/** The header's value, checked: 1–200 printable ASCII characters without spaces, or none. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(header)) {
    throw ApiError.validation([{ path: 'header.Idempotency-Key', message: 'must be 1–200 printable ASCII characters without spaces' }]);
  }
  return header;
}

/**
 * The tenant's runs-per-hour budget: the run's D1 row is inserted only if a slot is free
 * (atomically). A run over the budget is still recorded — it fails at once with the reason, so the
 * refusal is visible in the run list and the audit log rather than lost.
 * The run's object calls this after its state and first alarm are committed, never before: a
 * process killed in between then leaves a run that resumes and is admitted, not a D1 row that no
 * object holds (listed as queued forever, found by nobody).
 * True when the run's row is in D1 (its slot is that row); false when it is still to be copied.
 */
export async function admitRun(db: DB, run: RunState): Promise<boolean> {
  const maxPerHour = run.policy.spec.budgets.per_tenant.max_runs_per_hour;
  let rowWritten = false;
  if (maxPerHour !== undefined && !run.refused) {
    const reserved = await reserveRunSlot(db, runRow(run), maxPerHour, Date.now());
    // Resumed after a crash that came after the slot was taken: the row is this run's own.
    rowWritten = reserved || (await runExists(db, run.tenantId, run.id));
    if (!rowWritten) {
      run.refused = `${RUNS_PER_HOUR_PREFIX} ${maxPerHour} reached`;
      run.reason = run.refused;
    }
  }
  delete run.admission_pending;
  return rowWritten;
}

/** Undoes admitRun for a run its object could not take: the row (and its runs-per-hour slot) goes. */
export async function unadmitRun(db: DB, run: Pick<RunState, 'tenantId' | 'id'>): Promise<void> {
  await db.delete(runs).where(and(eq(runs.tenantId, run.tenantId), eq(runs.id, run.id), eq(runs.status, 'queued')));
}
