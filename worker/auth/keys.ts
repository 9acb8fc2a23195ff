import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import type { DB } from '../db/client';
import { apiKeys } from '../db/schema';
import type { Role } from '../env';
import { newApiKey, newId, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { personOfKey } from './person';
import { atLeast } from './roles';
import { revokeKeySessions } from './session';

/** What a key chosen by a person (bootstrap, `AGENTRUNBOOK_ADMIN_KEY`) must look like; scripts/lib.mjs checks the same. */
export const ADMIN_KEY_RULE = { pattern: /^ark_[a-z0-9]{20,100}$/i, message: 'must look like ark_ followed by 20–100 letters or digits' } as const;

/** The longest grace period a rotated key may keep working beside its replacement. */
export const MAX_ROTATION_GRACE_MS = 7 * 86_400_000;

/** Creates a key and returns it in clear text: the only time anyone sees it. */
export async function createApiKey(
  db: DB,
  opts: {
    tenantId: string;
    name: string;
    role: Role;
    platformOwner?: boolean;
    createdBy?: string;
    key?: string;
    rotatedFrom?: string;
    /** The person the key belongs to (person.ts); unknown (the key counts as its own person) when absent. */
    owner?: string;
  },
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
    rotatedFrom: opts.rotatedFrom,
    owner: opts.owner ?? null,
  });
  return { id, key, prefix };
}

/** Why a key no longer opens the door, or undefined while it does. */
export function keyProblem(row: { revokedAt: string | null; expiresAt: string | null }, now = Date.now()): string | undefined {
  if (row.revokedAt) return 'API key was revoked';
  if (row.expiresAt && Date.parse(row.expiresAt) <= now) return 'API key expired (it was rotated and its grace period ended; use its replacement)';
  return undefined;
}

const USE_RESOLUTION_MS = 60_000;
const lastWritten = new Map<string, number>();

/**
 * Records that a key was used, at most once a minute per key: the row already read says when it
 * was last written, and a per-isolate memo keeps concurrent requests from all writing. A failed
 * write is logged and ignored; it must never fail the request that used the key.
 */
export async function noteKeyUse(db: DB, keyId: string, lastUsedAt: string | null, now = Date.now()): Promise<void> {
  if (lastUsedAt && now - Date.parse(lastUsedAt) < USE_RESOLUTION_MS) return;
  const memo = lastWritten.get(keyId);
  if (memo !== undefined && now - memo < USE_RESOLUTION_MS) return;
  if (lastWritten.size > 10_000) lastWritten.clear();
  lastWritten.set(keyId, now);
  const stale = new Date(now - USE_RESOLUTION_MS).toISOString();
  try {
    await db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now).toISOString() })
      .where(and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, stale))));
  } catch (err) {
    console.warn(JSON.stringify({ level: 'warn', message: 'could not record API key use', key_id: keyId, error: String(err) }));
  }
}

export function listApiKeys(db: DB, tenantId: string) {
  return db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** What the caller of a key-management action holds: nobody acts on a key above their own powers. */
export interface KeyCaller {
  role: Role;
  platformOwner: boolean;
}

/**
 * Refuses an action on a key that carries more power than the caller: a role above theirs, or
 * the platform owner's power (only the platform owner acts on platform-owner keys).
 */
function requireAbove(old: ApiKeyRow, caller: KeyCaller, action: string): void {
  if (old.platformOwner && !caller.platformOwner) throw new ApiError('forbidden', `Only the platform owner may ${action} a platform-owner key`);
  if (!atLeast(caller.role, old.role)) throw new ApiError('forbidden', `Role "${caller.role}" may not ${action} a key with role "${old.role}" (above its own)`);
}

/**
 * Revokes a key at once and signs out every session opened with it. Undefined when the tenant
 * has no such key standing (unknown, another tenant's, or already revoked).
 */
export async function revokeApiKey(db: DB, tenantId: string, keyId: string, caller: KeyCaller): Promise<ApiKeyRow | undefined> {
  const now = new Date().toISOString();
  const [current] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .limit(1);
  if (!current) return undefined;
  requireAbove(current, caller, 'revoke');
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .returning();
  if (row) await revokeKeySessions(db, tenantId, keyId, now);
  return row;
}

export interface Rotation {
  id: string;
  key: string;
  name: string;
  role: Role;
  owner: string;
  rotated_from: string;
  old_key_expires_at: string;
}

/**
 * Replaces a key with a new one of the same name, role, owner and powers. The old key keeps
 * working for `graceMs` (so deployments can switch over) and then stops; its sessions stop with
 * it. The replacement inherits the key's powers, so only a caller who holds them may rotate it:
 * the platform owner for a platform-owner key, a role at least the key's.
 */
export async function rotateApiKey(
  db: DB,
  opts: { tenantId: string; keyId: string; graceMs: number; createdBy: string; caller: KeyCaller; now?: number },
): Promise<Rotation> {
  const now = opts.now ?? Date.now();
  const [old] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, opts.keyId), eq(apiKeys.tenantId, opts.tenantId), isNull(apiKeys.revokedAt)))
    .limit(1);
  if (!old) throw ApiError.notFound('API key');
  if (old.expiresAt) {
    throw new ApiError('conflict', `API key ${old.id} was already rotated (it stops at ${old.expiresAt}); rotate its replacement instead`);
  }
  requireAbove(old, opts.caller, 'rotate');
  // The replacement is the same person's key; a key from before owners passes on its own person.
  const owner = personOfKey(old);
  const expiresAt = new Date(now + opts.graceMs).toISOString();
  const created = await createApiKey(db, {
    tenantId: opts.tenantId,
    name: old.name,
    role: old.role,
    platformOwner: old.platformOwner,
    createdBy: opts.createdBy,
    rotatedFrom: old.id,
    owner,
  });
  // Claimed conditionally: of two concurrent rotations of one key, one wins and the other's new
  // key is withdrawn, so a key never has two replacements.
  const [claimed] = await db
    .update(apiKeys)
    .set({ expiresAt })
    .where(and(eq(apiKeys.id, old.id), eq(apiKeys.tenantId, opts.tenantId), isNull(apiKeys.revokedAt), isNull(apiKeys.expiresAt)))
    .returning({ id: apiKeys.id });
  if (!claimed) {
    await db.delete(apiKeys).where(and(eq(apiKeys.id, created.id), eq(apiKeys.tenantId, opts.tenantId)));
    throw new ApiError('conflict', `API key ${old.id} was rotated or revoked meanwhile`);
  }
  return { id: created.id, key: created.key, name: old.name, role: old.role, owner, rotated_from: old.id, old_key_expires_at: expiresAt };
}
