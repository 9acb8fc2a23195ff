import { and, asc, eq, isNull } from 'drizzle-orm';
import { deriveSigningKey } from '../../k8s-relay/contract/protocol';
import type { DB } from '../db/client';
import { clusters } from '../db/schema';
import { randomId, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { decryptSecret, encryptSecret, type SecretsEnv } from '../lib/secrets';

export type ClusterRow = typeof clusters.$inferSelect;

/** A new cluster token: `arc_` and 40 random characters (≈206 bits), shown once. */
export function newClusterToken(): string {
  return `arc_${randomId(40)}`;
}

export const hashClusterToken = (token: string): Promise<string> => sha256Hex(token);

/**
 * Registers a cluster and returns its token (the only time it exists outside the relay). The
 * row keeps the token's hash, to authenticate the relay's connection, and the request-signing
 * key derived from it, encrypted. A revoked name may be registered again: it gets a new token.
 */
export async function registerCluster(env: SecretsEnv, db: DB, input: { tenantId: string; name: string; createdBy: string; labels?: Record<string, string> }): Promise<{ row: ClusterRow; token: string }> {
  const existing = await getCluster(db, input.tenantId, input.name, { includeRevoked: true });
  if (existing && !existing.revokedAt) {
    throw new ApiError('conflict', `Cluster "${input.name}" is already registered; revoke it (DELETE /clusters/${input.name}) to issue a new token`);
  }
  const token = newClusterToken();
  const values = {
    tokenHash: await hashClusterToken(token),
    signingKeyEnc: await encryptSecret(env, input.tenantId, await deriveSigningKey(token)),
    createdBy: input.createdBy,
    createdAt: new Date().toISOString(),
    revokedAt: null,
    // A re-registered name starts from what it is told now, not from the revoked cluster's labels.
    labels: input.labels ?? {},
  };
  // The update is conditional on the row still being revoked, so two concurrent re-registrations
  // cannot both hand out a token; the insert relies on the primary key for the same.
  const [row] = existing
    ? await db
        .update(clusters)
        .set(values)
        .where(and(eq(clusters.tenantId, input.tenantId), eq(clusters.name, input.name), eq(clusters.revokedAt, existing.revokedAt!)))
        .returning()
    : await db
        .insert(clusters)
        .values({ tenantId: input.tenantId, name: input.name, ...values })
        .onConflictDoNothing()
        .returning();
  if (!row) throw new ApiError('conflict', `Cluster "${input.name}" was registered concurrently; list clusters and try again`);
  return { row, token };
}

export async function getCluster(db: DB, tenantId: string, name: string, opts: { includeRevoked?: boolean } = {}): Promise<ClusterRow | undefined> {
  const [row] = await db
    .select()
    .from(clusters)
    .where(and(eq(clusters.tenantId, tenantId), eq(clusters.name, name), opts.includeRevoked ? undefined : isNull(clusters.revokedAt)))
    .limit(1);
  return row;
}

/** The tenant's registered (not revoked) clusters, by name. */
export async function listClusters(db: DB, tenantId: string): Promise<ClusterRow[]> {
  return db.select().from(clusters).where(and(eq(clusters.tenantId, tenantId), isNull(clusters.revokedAt))).orderBy(asc(clusters.name));
}

/** The registered cluster a relay's token belongs to; revoked tokens find nothing. */
export async function clusterForToken(db: DB, token: string): Promise<ClusterRow | undefined> {
  const [row] = await db
    .select()
    .from(clusters)
    .where(and(eq(clusters.tokenHash, await hashClusterToken(token)), isNull(clusters.revokedAt)))
    .limit(1);
  return row;
}

/** Revokes a registered cluster; undefined when there is none (or it is another tenant's). */
export async function revokeCluster(db: DB, tenantId: string, name: string): Promise<ClusterRow | undefined> {
  const [row] = await db
    .update(clusters)
    .set({ revokedAt: new Date().toISOString() })
    .where(and(eq(clusters.tenantId, tenantId), eq(clusters.name, name), isNull(clusters.revokedAt)))
    .returning();
  return row;
}

/** Replaces a registered cluster's labels; undefined when there is none (or it is another tenant's). */
export async function setClusterLabels(db: DB, tenantId: string, name: string, labels: Record<string, string>): Promise<ClusterRow | undefined> {
  const [row] = await db
    .update(clusters)
    .set({ labels })
    .where(and(eq(clusters.tenantId, tenantId), eq(clusters.name, name), isNull(clusters.revokedAt)))
    .returning();
  return row;
}

/** The request-signing key of a registered cluster (decrypted; never leaves the hub). */
export function signingKeyOf(env: SecretsEnv, row: ClusterRow): Promise<string> {
  return decryptSecret(env, row.tenantId, row.signingKeyEnc);
}

