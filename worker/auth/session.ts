import { jwtVerify, SignJWT } from 'jose';
import type { Env } from '../env';
import { ApiError } from '../lib/errors';

export const SESSION_COOKIE = 'arb_session';
export const SESSION_TTL_SECONDS = 12 * 3600;

function secret(env: Env): Uint8Array {
  if (!env.SESSION_SECRET) throw new ApiError('unavailable', 'Sessions are not configured (SESSION_SECRET is not set)');
  return new TextEncoder().encode(env.SESSION_SECRET);
}

/** A session is a short-lived signed token naming the key it was opened with. */
export async function signSession(env: Env, tenantId: string, keyId: string): Promise<string> {
  return new SignJWT({ tid: tenantId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(keyId)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_TTL_SECONDS}s`)
    .setAudience('agentrunbook-session')
    .sign(secret(env));
}

export async function verifySession(env: Env, token: string): Promise<{ tenantId: string; keyId: string } | undefined> {
  try {
    const { payload } = await jwtVerify(token, secret(env), { audience: 'agentrunbook-session', algorithms: ['HS256'] });
    if (typeof payload.tid !== 'string' || typeof payload.sub !== 'string') return undefined;
    return { tenantId: payload.tid, keyId: payload.sub };
  } catch {
    return undefined;
  }
}
