import { and, asc, desc, eq, exists, inArray, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { policies, runSteps, runs, tenants } from '../db/schema';
import { newId } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import type { Policy } from '../policy/schema';
import type { RecordedRun } from '../policy/simulate';
import { checkPolicyYaml } from '../policy/validate';
import type { SourceError } from '../runbooks/types';

/**
 * Validates policy YAML (schema, CEL conditions, approvers; see worker/policy/validate.ts) and
 * returns the policy with its warnings; a 400 with every located error otherwise.
 */
export function validatePolicyDocument(yaml: string): { policy: Policy; warnings: SourceError[] } {
  const checked = checkPolicyYaml(yaml);
  if (!checked.ok) throw ApiError.validation(checked.errors, `Policy is invalid: ${checked.errors[0]?.message ?? 'unknown error'}`);
  return { policy: checked.policy, warnings: checked.warnings };
}

export function validatePolicy(yaml: string): Policy {
  return validatePolicyDocument(yaml).policy;
}

/** Saves a policy as a new version of its name (version 1 for a new name). */
export async function createPolicy(db: DB, tenantId: string, yaml: string, actorId: string) {
  const { policy: spec, warnings } = validatePolicyDocument(yaml);
  const [latest] = await db
    .select({ version: policies.version })
    .from(policies)
    .where(and(eq(policies.tenantId, tenantId), eq(policies.name, spec.metadata.name)))
    .orderBy(desc(policies.version))
    .limit(1);
  const id = newId('pol');
  const version = (latest?.version ?? 0) + 1;
  await db.insert(policies).values({ id, tenantId, name: spec.metadata.name, version, yaml, spec, createdBy: actorId });
  return { id, name: spec.metadata.name, version, warnings };
}

export async function findPolicy(db: DB, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(policies)
    .where(and(eq(policies.tenantId, tenantId), eq(policies.id, id)))
    .limit(1);
  return row;
}

/** A policy version of the tenant, or 404 (also for another tenant's id). */
export async function getPolicy(db: DB, tenantId: string, id: string) {
  const row = await findPolicy(db, tenantId, id);
  if (!row) throw ApiError.notFound('Policy');
  return { ...row, spec: row.spec as Policy };
}

export async function activatePolicy(db: DB, tenantId: string, id: string) {
  const row = await findPolicy(db, tenantId, id);
  if (!row) throw ApiError.notFound('Policy');
  await db.update(tenants).set({ activePolicyId: row.id }).where(eq(tenants.id, tenantId));
  return { id: row.id, name: row.name, version: row.version, active: true };
}

/** The tenant's active policy; a tenant without one cannot start runs. */
export async function activePolicy(db: DB, tenantId: string): Promise<{ id: string; spec: Policy }> {
  const [row] = await db
    .select({ id: policies.id, spec: policies.spec })
    .from(tenants)
    .innerJoin(policies, eq(policies.id, tenants.activePolicyId))
    .where(eq(tenants.id, tenantId))
    .limit(1);
  if (!row) throw new ApiError('conflict', 'No active policy: create one with POST /api/v1/policies and activate it');
  return { id: row.id, spec: row.spec as Policy };
}

export async function listPolicies(db: DB, tenantId: string) {
  const [tenant] = await db.select({ active: tenants.activePolicyId }).from(tenants).where(eq(tenants.id, tenantId));
  const rows = await db.select().from(policies).where(eq(policies.tenantId, tenantId)).orderBy(policies.name, desc(policies.version));
  return rows.map((r) => ({ id: r.id, name: r.name, version: r.version, active: r.id === tenant?.active, created_at: r.createdAt }));
}

/** Most step rows one simulation reads (runbooks have at most 100 steps; most have a handful). */
export const MAX_SIMULATED_STEPS = 5000;

/**
 * The tenant's `limit` most recent runs that recorded steps, newest first, with their steps in
 * order — what the policy simulator replays. Two bounded queries in one batch (one snapshot): the
 * runs, and at most MAX_SIMULATED_STEPS + 1 of their steps; a run whose steps do not all fit is
 * left out, so every run replayed is replayed whole.
 */
export async function recentRunRecords(db: DB, tenantId: string, limit: number): Promise<RecordedRun[]> {
  const recent = db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        eq(runs.tenantId, tenantId),
        exists(
          db
            .select({ one: sql`1` })
            .from(runSteps)
            .where(and(eq(runSteps.runId, runs.id), eq(runSteps.tenantId, tenantId))),
        ),
      ),
    )
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(limit);
  const [runRows, stepRows] = await db.batch([
    db
      .select({
        id: runs.id,
        runbook: runs.runbookName,
        mode: runs.mode,
        context: runs.context,
        actorType: runs.actorType,
        actorId: runs.actorId,
        actorRole: runs.actorRole,
      })
      .from(runs)
      .where(and(eq(runs.tenantId, tenantId), inArray(runs.id, recent)))
      .orderBy(desc(runs.createdAt), desc(runs.id)),
    db
      .select({ runId: runSteps.runId, id: runSteps.stepId, tool: runSteps.tool, args: runSteps.args, decision: runSteps.decision })
      .from(runSteps)
      .innerJoin(runs, and(eq(runs.id, runSteps.runId), eq(runs.tenantId, runSteps.tenantId)))
      .where(and(eq(runSteps.tenantId, tenantId), inArray(runSteps.runId, recent)))
      .orderBy(desc(runs.createdAt), desc(runs.id), asc(runSteps.idx))
      .limit(MAX_SIMULATED_STEPS + 1),
  ]);

  const byRun = new Map<string, RecordedRun>();
  for (const r of runRows) {
    byRun.set(r.id, {
      id: r.id,
      runbook: r.runbook,
      mode: r.mode,
      context: isObject(r.context) ? r.context : {},
      actor: { type: r.actorType, id: r.actorId, role: r.actorRole },
      steps: [],
    });
  }
  for (const s of stepRows.slice(0, MAX_SIMULATED_STEPS)) {
    byRun.get(s.runId)?.steps.push({ id: s.id, tool: s.tool, args: s.args, decision: s.decision });
  }
  const out = [...byRun.values()];
  // The cap was reached: the run of the first row not read is partial (or not read at all), so
  // it and every older run are left out.
  const firstUnread = stepRows[MAX_SIMULATED_STEPS];
  if (firstUnread) {
    const cut = out.findIndex((r) => r.id === firstUnread.runId);
    return cut < 0 ? out : out.slice(0, cut);
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
