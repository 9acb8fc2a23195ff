/**
 * Whether credentials still stand, for connections that outlive the request that opened them (the
 * live view's WebSockets): a revoked or rotated-out key, a signed-out or expired session, a person
 * whose groups no longer map to a role, all end the connection.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { DB } from '../db/client';
import { apiKeys } from '../db/schema';
import type { Principal } from '../env';
import { keyProblem } from './keys';
import { isRefusal, principalForSession } from './principal';

/** A credential as a connection remembers it: `key:<id>` or `session:<id>`. */
export type CredentialRef = string;

/** The credential a request came with: its session when it came with the cookie, else its key. */
export function credentialOf(p: Principal): CredentialRef {
  return p.session ? `session:${p.session.id}` : `key:${p.keyId}`;
}

/** The subset of `refs` that still stand in the tenant. */
export async function standingCredentials(db: DB, tenantId: string, refs: readonly CredentialRef[], now = Date.now()): Promise<Set<CredentialRef>> {
  const stand = new Set<CredentialRef>();
  const keyIds = refs.filter((r) => r.startsWith('key:')).map((r) => r.slice(4));
  if (keyIds.length > 0) {
    const rows = await db
      .select({ id: apiKeys.id, revokedAt: apiKeys.revokedAt, expiresAt: apiKeys.expiresAt })
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, tenantId), inArray(apiKeys.id, keyIds)));
    for (const row of rows) if (!keyProblem(row, now)) stand.add(`key:${row.id}`);
  }
  for (const ref of refs.filter((r) => r.startsWith('session:'))) {
    // The same rules as a request with the cookie (a session of a revoked key ends with it).
    const found = await principalForSession(db, tenantId, ref.slice(8), now);
    if (!isRefusal(found)) stand.add(ref);
  }
  return stand;
}
