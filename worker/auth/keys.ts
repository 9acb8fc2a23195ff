import { and, eq, isNull } from 'drizzle-orm';
import type { DB } from '../db/client';
import { apiKeys, tenants } from '../db/schema';
import type { Principal, Role } from '../env';
import { newApiKey, newId, sha256Hex } from '../lib/crypto';

/** Creates a key and returns it in clear text: the only time anyone sees it. */
export async function createApiKey(
  db: DB,
  opts: { tenantId: string; name: string; role: Role; platformOwner?: boolean; createdBy?: string; key?: string },
): Promise<{ id: string; key: string; prefix: string }> {
  const key = opts.key ?? newApiKey();
  const id = newId('key');
  const prefix = key.slice(0, 8);
  await db.insert(apiKeys).values({
    id,
    tenantId: opts.tenantId,
    name: opts.name,
    role: opts.role,
    hash: await sha256Hex(key),
    prefix,
    platformOwner: opts.platformOwner ?? false,
    createdBy: opts.createdBy,
  });
  return { id, key, prefix };
}

type KeyRow = { id: string; name: string; role: Role; platformOwner: boolean; tenantId: string; tenantName: string };

function toPrincipal(row: KeyRow): Principal {
  return {
    tenantId: row.tenantId,
    tenantName: row.tenantName,
    keyId: row.id,
    keyName: row.name,
    role: row.role,
    platformOwner: row.platformOwner,
    actor: { type: 'api_key', id: row.id },
  };
}

const keyColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  role: apiKeys.role,
  platformOwner: apiKeys.platformOwner,
  tenantId: apiKeys.tenantId,
  tenantName: tenants.name,
};

/** Resolves a presented key to its principal; undefined for unknown or revoked keys. */
export async function principalForKey(db: DB, key: string): Promise<Principal | undefined> {
  if (!key.startsWith('ark_') || key.length > 128) return undefined;
  const hash = await sha256Hex(key);
  const [row] = await db
    .select(keyColumns)
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row ? toPrincipal(row) : undefined;
}

/** Resolves a key id (from a session) to its principal, if the key still stands. */
export async function principalForKeyId(db: DB, tenantId: string, keyId: string): Promise<Principal | undefined> {
  const [row] = await db
    .select(keyColumns)
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row ? toPrincipal(row) : undefined;
}
