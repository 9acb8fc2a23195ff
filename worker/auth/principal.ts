import { and, eq, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { apiKeys, people, sessions, tenants } from '../db/schema';
import type { Principal } from '../env';
import { sha256Hex } from '../lib/crypto';
import { parseTenantSettings } from '../store/settings';
import { keyProblem, noteKeyUse } from './keys';
import { personOfKey } from './person';
import { personRole } from './roles';

/** A caller that could not be resolved, with the reason the 401 states. */
export interface Refusal {
  reason: string;
}

/** Resolves a presented API key to its principal; a refusal says whether it was unknown, revoked or expired. */
export async function principalForKey(db: DB, key: string, now = Date.now()): Promise<Principal | Refusal> {
  if (!key.startsWith('ark_') || key.length > 128) return { reason: 'Invalid API key' };
  const [row] = await db
    .select({ key: apiKeys, tenantName: tenants.name })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.hash, await sha256Hex(key)))
    .limit(1);
  if (!row) return { reason: 'Invalid API key' };
  const problem = keyProblem(row.key, now);
  if (problem) return { reason: problem };
  await noteKeyUse(db, row.key.id, row.key.lastUsedAt, now);
  return {
    tenantId: row.key.tenantId,
    tenantName: row.tenantName,
    keyId: row.key.id,
    keyName: row.key.name,
    role: row.key.role,
    platformOwner: row.key.platformOwner,
    actor: { type: 'api_key', id: row.key.id },
    person: personOfKey(row.key),
  };
}

/** Splits an OIDC session subject (`iss|sub`) back into its parts. */
export function splitSubject(subject: string): { issuer: string; sub: string } {
  const at = subject.indexOf('|');
  return at < 0 ? { issuer: '', sub: subject } : { issuer: subject.slice(0, at), sub: subject.slice(at + 1) };
}

/**
 * Resolves a session (named by a verified cookie) in one query: the row must be neither revoked
 * nor expired; a key session also needs its key standing; a person's role is derived again from
 * their groups and the tenant's current mapping, so a changed mapping, a changed issuer or OIDC
 * turned off take effect on the next request rather than when the session ends.
 */
export async function principalForSession(db: DB, tenantId: string, sessionId: string, now = Date.now()): Promise<Principal | Refusal> {
  const [row] = await db
    .select({ session: sessions, tenantName: tenants.name, settings: tenants.settings, key: apiKeys, assigned: people.role })
    .from(sessions)
    .innerJoin(tenants, eq(tenants.id, sessions.tenantId))
    .leftJoin(apiKeys, and(eq(sessions.kind, 'api_key'), eq(apiKeys.id, sessions.subject), eq(apiKeys.tenantId, sessions.tenantId)))
    // A person signed in through OIDC may have a role an admin gave them (PUT /people).
    .leftJoin(people, and(eq(sessions.kind, 'oidc'), eq(people.tenantId, sessions.tenantId), eq(people.id, sql`coalesce(${sessions.person}, ${sessions.subject})`)))
    .where(and(eq(sessions.id, sessionId), eq(sessions.tenantId, tenantId)))
    .limit(1);
  if (!row) return { reason: 'Unknown session; sign in again' };
  const s = row.session;
  if (s.revokedAt) return { reason: 'Session was signed out or revoked; sign in again' };
  if (Date.parse(s.expiresAt) <= now) return { reason: 'Session expired; sign in again' };
  const session = { id: s.id, kind: s.kind, expiresAt: s.expiresAt };

  if (s.kind === 'api_key') {
    if (!row.key) return { reason: 'The API key of this session no longer exists' };
    const problem = keyProblem(row.key, now);
    if (problem) return { reason: `Session ended: ${problem}` };
    await noteKeyUse(db, row.key.id, row.key.lastUsedAt, now);
    return {
      tenantId: s.tenantId,
      tenantName: row.tenantName,
      keyId: row.key.id,
      keyName: row.key.name,
      role: row.key.role,
      platformOwner: row.key.platformOwner,
      actor: { type: 'api_key', id: row.key.id },
      person: personOfKey(row.key),
      session,
    };
  }

  const oidc = parseTenantSettings(row.settings, s.tenantId).oidc;
  const { issuer, sub } = splitSubject(s.subject);
  if (!oidc || oidc.issuer !== issuer) return { reason: 'Sign-in with this identity provider is no longer configured for the tenant' };
  const groups = Array.isArray(s.groups) ? (s.groups as unknown[]).filter((g): g is string => typeof g === 'string') : [];
  const role = personRole(groups, oidc, row.assigned);
  if (!role) return { reason: 'Your groups no longer map to a role in this tenant' };
  return {
    tenantId: s.tenantId,
    tenantName: row.tenantName,
    keyId: s.id,
    keyName: s.name ?? s.email ?? sub,
    role,
    platformOwner: false,
    actor: { type: 'user', id: s.subject },
    // Sessions from before persons were recorded count as their `iss|sub`.
    person: s.person ?? s.subject,
    session,
    user: { issuer, subject: sub, email: s.email ?? undefined, name: s.name ?? undefined, groups },
  };
}

export function isRefusal(x: Principal | Refusal): x is Refusal {
  return 'reason' in x;
}
