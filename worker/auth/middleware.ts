import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { makeDb } from '../db/client';
import type { AppEnv, Principal, Role } from '../env';
import { ApiError } from '../lib/errors';
import { principalForKey, principalForKeyId } from './keys';
import { SESSION_COOKIE, verifySession } from './session';

/** Resolves the caller from `Authorization: Bearer ark_…` or the session cookie; 401 otherwise. */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const db = makeDb(c.env.DB);
  let principal: Principal | undefined;
  const header = c.req.header('authorization');
  if (header) {
    const [scheme, token] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new ApiError('unauthorized', 'Authorization must be "Bearer ark_…"');
    principal = await principalForKey(db, token);
    if (!principal) throw new ApiError('unauthorized', 'Invalid or revoked API key');
  } else {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie ? await verifySession(c.env, cookie) : undefined;
    if (session) principal = await principalForKeyId(db, session.tenantId, session.keyId);
    if (!principal) throw new ApiError('unauthorized', 'Sign in with an API key (Authorization: Bearer ark_…)');
  }
  c.set('principal', principal);
  await next();
};

const RANK: Record<Role, number> = { viewer: 0, operator: 1, sre: 2, admin: 3 };

/** Throws 403 unless the caller's role is at least `min`. */
export function requireRole(principal: Principal, min: Role, action: string): void {
  if (RANK[principal.role] < RANK[min]) {
    throw new ApiError('forbidden', `Role "${principal.role}" may not ${action} (needs ${min} or above)`);
  }
}
