import { eq } from 'drizzle-orm';
import { createApiKey } from '../auth/keys';
import type { DB } from '../db/client';
import { apiKeys, policies, tenants } from '../db/schema';
import { newId } from '../lib/crypto';
import defaultPolicyYaml from '../../policies/default.yaml';
import { activatePolicy, createPolicy } from './policies';

/** A new tenant with the default policy active and one admin key (returned once). */
export async function createTenant(db: DB, opts: { name: string; createdBy: string; adminKey?: string; platformOwner?: boolean }) {
  const id = newId('ten');
  await db.insert(tenants).values({ id, name: opts.name });
  try {
    const policy = await createPolicy(db, id, defaultPolicyYaml, opts.createdBy);
    await activatePolicy(db, id, policy.id);
    const key = await createApiKey(db, {
      tenantId: id,
      name: 'admin',
      role: 'admin',
      platformOwner: opts.platformOwner ?? false,
      createdBy: opts.createdBy,
      key: opts.adminKey,
    });
    return { id, name: opts.name, admin_key: key.key, admin_key_id: key.id, policy_id: policy.id };
  } catch (err) {
    await deleteTenantRows(db, id);
    throw err;
  }
}

/** Undoes a tenant creation that failed half-way (only used before the tenant was handed out). */
async function deleteTenantRows(db: DB, id: string): Promise<void> {
  await db.batch([
    db.update(tenants).set({ activePolicyId: null }).where(eq(tenants.id, id)),
    db.delete(apiKeys).where(eq(apiKeys.tenantId, id)),
    db.delete(policies).where(eq(policies.tenantId, id)),
    db.delete(tenants).where(eq(tenants.id, id)),
  ]);
}
