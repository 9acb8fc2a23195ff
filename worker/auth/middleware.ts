import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { makeDb } from '../db/client';
import type { AppEnv, Principal, Role } from '../env';
import { ApiError } from '../lib/errors';
import { isRefusal, principalForKey, principalForSession } from './principal';
import type { Refusal } from './principal';
import { atLeast } from './roles';
import { SESSION_COOKIE, verifySessionToken } from './session';

/**
 * Resolves the caller from `Authorization: Bearer ark_…` or the session cookie; 401 otherwise.
 * A header wins over a cookie, so scripts are never confused by a browser session.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const db = makeDb(c.env.DB);
  let principal: Principal;
  const header = c.req.header('authorization');
  if (header) {
    const [scheme, token] = header.trim().split(/\s+/, 2);
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new ApiError('unauthorized', 'Authorization must be "Bearer ark_…"');
    const found = await principalForKey(db, token);
    if (isRefusal(found)) throw new ApiError('unauthorized', found.reason);
    principal = found;
  } else {
    const found = await sessionPrincipal(c);
    if (!found) throw new ApiError('unauthorized', 'Sign in, or send an API key (Authorization: Bearer ark_…)');
    if (isRefusal(found)) throw new ApiError('unauthorized', found.reason);
    principal = found;
  }
  c.set('principal', principal);
  await next();
};

/** The person the request's session cookie names; undefined without a cookie, a refusal for a bad one. */
export async function sessionPrincipal(c: Context<AppEnv>): Promise<Principal | Refusal | undefined> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return undefined;
  const named = await verifySessionToken(c.env, cookie);
  if (!named) return { reason: 'Session cookie is invalid or expired; sign in again' };
  return principalForSession(makeDb(c.env.DB), named.tenantId, named.sessionId);
}

/** Throws 403 unless the caller's role is at least `min`. */
export function requireRole(principal: Principal, min: Role, action: string): void {
  if (!atLeast(principal.role, min)) {
    throw new ApiError('forbidden', `Role "${principal.role}" may not ${action} (needs ${min} or above)`);
  }
}
