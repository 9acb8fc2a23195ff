import { and, desc, eq, or } from 'drizzle-orm';
import type { DB } from '../db/client';
import { policies, tenants } from '../db/schema';
import { newId } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { policySchema, type Policy } from '../policy/schema';
import { validateWithSchema } from '../yaml';

export function validatePolicy(yaml: string): Policy {
  const parsed = validateWithSchema(yaml, policySchema);
  if (!parsed.ok) throw ApiError.validation(parsed.errors, `Policy is invalid: ${parsed.errors[0]?.message ?? 'unknown error'}`);
  return parsed.value;
}

/** Saves a policy as a new version of its name (version 1 for a new name). */
export async function createPolicy(db: DB, tenantId: string, yaml: string, actorId: string) {
  const spec = validatePolicy(yaml);
  const [latest] = await db
    .select({ version: policies.version })
    .from(policies)
    .where(and(eq(policies.tenantId, tenantId), eq(policies.name, spec.metadata.name)))
    .orderBy(desc(policies.version))
    .limit(1);
  const id = newId('pol');
  const version = (latest?.version ?? 0) + 1;
  await db.insert(policies).values({ id, tenantId, name: spec.metadata.name, version, yaml, spec, createdBy: actorId });
  return { id, name: spec.metadata.name, version };
}

export async function findPolicy(db: DB, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(policies)
    .where(and(eq(policies.tenantId, tenantId), or(eq(policies.id, id))))
    .limit(1);
  return row;
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
