/**
 * The tenant's people (DESIGN §14): recorded when they sign in through OIDC, own a key, or are
 * given a role with `PUT /people/{email}`. Listing adds the owners of live keys, so everyone who
 * can act in the tenant is listed, keys from before owners were recorded as `key:<id>`.
 */
import { and, eq, gt, isNull, or } from 'drizzle-orm';
import type { DB } from '../db/client';
import { apiKeys, people } from '../db/schema';
import type { Role } from '../env';
import { personOfKey } from '../auth/person';
import { ROLES } from '../auth/roles';

export type PersonRow = typeof people.$inferSelect;

/** Records a person's OIDC sign-in: who they are and which role their groups mapped to (null: none). */
export async function notePersonSignIn(
  db: DB,
  p: { tenantId: string; id: string; email?: string; name?: string; oidcSubject: string; groupsRole: Role | undefined },
): Promise<void> {
  const at = new Date().toISOString();
  const values = { email: p.email ?? null, name: p.name ?? null, oidcSubject: p.oidcSubject, groupsRole: p.groupsRole ?? null, lastSeenAt: at };
  await db
    .insert(people)
    .values({ tenantId: p.tenantId, id: p.id, ...values })
    .onConflictDoUpdate({ target: [people.tenantId, people.id], set: values });
}

/** Makes sure a key's owner is listed (a key may be made for someone who never signed in). */
export async function notePersonOwner(db: DB, tenantId: string, id: string, email: string | undefined): Promise<void> {
  await db.insert(people).values({ tenantId, id, email: email ?? null }).onConflictDoNothing();
}

export function getPerson(db: DB, tenantId: string, id: string): Promise<PersonRow | undefined> {
  return db
    .select()
    .from(people)
    .where(and(eq(people.tenantId, tenantId), eq(people.id, id)))
    .limit(1)
    .then((r) => r[0]);
}

/** Sets (or clears, with null) the role an admin gives a person; creates the person if new. */
export async function assignPersonRole(db: DB, tenantId: string, id: string, role: Role, setBy: string): Promise<PersonRow> {
  const [row] = await db
    .insert(people)
    .values({ tenantId, id, email: id, role, roleSetBy: setBy })
    .onConflictDoUpdate({ target: [people.tenantId, people.id], set: { role, roleSetBy: setBy } })
    .returning();
  return row!;
}

export interface PersonView {
  id: string;
  email: string | null;
  name: string | null;
  role: Role | null;
  /** Where the role comes from: their IdP groups, an admin (`PUT /people`), or the highest of their live keys. */
  role_source: 'oidc_groups' | 'assigned' | 'keys' | null;
  oidc_subject: string | null;
  keys: number;
  last_seen_at: string | null;
}

const rank = (r: Role | null | undefined) => (r ? ROLES.indexOf(r) : -1);

/** The role a person holds as `GET /people` shows it (and `PUT /people` compares with the caller's). */
export function effectiveRole(row: Pick<PersonRow, 'groupsRole' | 'role'> | undefined, keyRoles: Role[]): Pick<PersonView, 'role' | 'role_source'> {
  if (row?.groupsRole) return { role: row.groupsRole, role_source: 'oidc_groups' };
  if (row?.role) return { role: row.role, role_source: 'assigned' };
  const best = keyRoles.reduce<Role | null>((b, r) => (rank(r) > rank(b) ? r : b), null);
  return best ? { role: best, role_source: 'keys' } : { role: null, role_source: null };
}

/** Every person of the tenant with their role; live keys (not revoked, not expired) count. */
export async function listPeople(db: DB, tenantId: string, now = new Date().toISOString()): Promise<PersonView[]> {
  const [rows, keys] = await Promise.all([
    db.select().from(people).where(eq(people.tenantId, tenantId)),
    db
      .select({ id: apiKeys.id, owner: apiKeys.owner, role: apiKeys.role, lastUsedAt: apiKeys.lastUsedAt })
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)))),
  ]);
  const keysOf = new Map<string, { roles: Role[]; lastUsed: string | null }>();
  for (const k of keys) {
    const id = personOfKey(k);
    const e = keysOf.get(id) ?? { roles: [], lastUsed: null };
    e.roles.push(k.role);
    if (k.lastUsedAt && (!e.lastUsed || k.lastUsedAt > e.lastUsed)) e.lastUsed = k.lastUsedAt;
    keysOf.set(id, e);
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ids = [...new Set([...byId.keys(), ...keysOf.keys()])].sort();
  return ids.map((id) => {
    const row = byId.get(id);
    const k = keysOf.get(id);
    const seen = [row?.lastSeenAt, k?.lastUsed].filter((x): x is string => !!x).sort().pop() ?? null;
    return {
      id,
      email: row?.email ?? (id.includes('@') ? id : null),
      name: row?.name ?? null,
      ...effectiveRole(row, k?.roles ?? []),
      oidc_subject: row?.oidcSubject ?? null,
      keys: k?.roles.length ?? 0,
      last_seen_at: seen,
    };
  });
}

/** The roles of a person's live keys (for the role `PUT /people` compares with the caller's). */
export async function liveKeyRoles(db: DB, tenantId: string, person: string, now = new Date().toISOString()): Promise<Role[]> {
  // A key from before owners counts as `key:<id>`; its rotations carry that as their owner.
  const owner = person.startsWith('key:') ? or(eq(apiKeys.owner, person), and(isNull(apiKeys.owner), eq(apiKeys.id, person.slice(4)))) : eq(apiKeys.owner, person);
  const rows = await db
    .select({ role: apiKeys.role })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)), owner));
  return rows.map((r) => r.role);
}
