import { and, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { jwtVerify, SignJWT } from 'jose';
import type { DB } from '../db/client';
import { sessions } from '../db/schema';
import type { Env, Role } from '../env';
import { newId } from '../lib/crypto';
import { ApiError } from '../lib/errors';

export const SESSION_COOKIE = 'arb_session';
export const SESSION_TTL_SECONDS = 12 * 3600;
const AUDIENCE = 'agentrunbook-session';

function secret(env: Env): Uint8Array {
  if (!env.SESSION_SECRET) throw new ApiError('unavailable', 'Sessions are not configured (SESSION_SECRET is not set)');
  return new TextEncoder().encode(env.SESSION_SECRET);
}

export interface NewSession {
  tenantId: string;
  kind: 'api_key' | 'oidc';
  /** The key id, or the OIDC `iss|sub`. */
  subject: string;
  /** An OIDC session's person (person.ts); a key session's person is its key's owner. */
  person?: string;
  role: Role;
  email?: string;
  name?: string;
  groups?: string[];
}

export interface SessionTicket {
  id: string;
  /** The cookie value: a signed token naming the session row. */
  token: string;
  expiresAt: string;
}

/**
 * Opens a server-side session and returns the token for its cookie. The token only names the
 * row; the row decides whether the session still stands, so logout and key revocation end it at
 * once even though the token itself would still verify.
 */
export async function openSession(env: Env, db: DB, s: NewSession, now = Date.now()): Promise<SessionTicket> {
  const key = secret(env);
  const id = newId('ses');
  const expiresMs = now + SESSION_TTL_SECONDS * 1000;
  const expiresAt = new Date(expiresMs).toISOString();
  await db.insert(sessions).values({
    id,
    tenantId: s.tenantId,
    kind: s.kind,
    subject: s.subject,
    person: s.person ?? null,
    role: s.role,
    email: s.email ?? null,
    name: s.name ?? null,
    groups: s.groups ?? null,
    expiresAt,
  });
  const token = await new SignJWT({ tid: s.tenantId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(id)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(expiresMs / 1000))
    .setAudience(AUDIENCE)
    .sign(key);
  return { id, token, expiresAt };
}

/** The session a cookie names, if its signature and expiry hold; the row is checked separately. */
export async function verifySessionToken(env: Env, token: string): Promise<{ tenantId: string; sessionId: string } | undefined> {
  try {
    const { payload } = await jwtVerify(token, secret(env), { audience: AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.tid !== 'string' || typeof payload.sub !== 'string') return undefined;
    return { tenantId: payload.tid, sessionId: payload.sub };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    return undefined;
  }
}

export type SessionRow = typeof sessions.$inferSelect;

/** Ends one session (logout); undefined if it was unknown or already ended. */
export async function revokeSession(db: DB, tenantId: string, sessionId: string): Promise<SessionRow | undefined> {
  const [row] = await db
    .update(sessions)
    .set({ revokedAt: new Date().toISOString() })
    .where(and(eq(sessions.id, sessionId), eq(sessions.tenantId, tenantId), isNull(sessions.revokedAt)))
    .returning();
  return row;
}

/** Ends every session opened with a key (the key was revoked). */
export async function revokeKeySessions(db: DB, tenantId: string, keyId: string, at = new Date().toISOString()): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: at })
    .where(and(eq(sessions.tenantId, tenantId), eq(sessions.kind, 'api_key'), eq(sessions.subject, keyId), isNull(sessions.revokedAt)));
}

/**
 * Deletes sessions that ended (expired or revoked) more than `keepDays` ago, so the table stays
 * small; the audit log keeps the logins and logouts. Meant for the scheduled handler.
 */
export async function purgeEndedSessions(db: DB, keepDays = 30, now = Date.now()): Promise<number> {
  const before = new Date(now - keepDays * 86_400_000).toISOString();
  const gone = await db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, before), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, before))))
    .returning({ id: sessions.id });
  return gone.length;
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

/**
 * The session cookie is HttpOnly (scripts never see it), Secure on https, and SameSite=Strict:
 * a browser never sends it on a request another site started, which closes cross-site request
 * forgery for every route, GETs and WebSocket upgrades included. One policy for every way of
 * signing in: the OIDC callback, which arrives as a cross-site navigation, hands over through a
 * page on this origin (see routes/auth.ts) instead of relaxing the cookie to Lax.
 */
export function setSessionCookie(c: Context, ticket: SessionTicket): void {
  setCookie(c, SESSION_COOKIE, ticket.token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    path: '/',
    maxAge: Math.max(0, Math.floor((Date.parse(ticket.expiresAt) - Date.now()) / 1000)),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
}
