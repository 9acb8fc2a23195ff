import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { jwtVerify, SignJWT } from 'jose';
import type { AppEnv, Env } from '../env';
import { ApiError } from '../lib/errors';

export const LOGIN_STATE_COOKIE = 'arb_oidc';
/** Long enough to type a password and pass MFA at the IdP; short enough to be useless later. */
export const LOGIN_STATE_TTL_SECONDS = 10 * 60;
const AUDIENCE = 'agentrunbook-oidc-login';
/** Sent to the callback only, never to the rest of the API. */
const COOKIE_PATH = '/api/v1/auth/oidc';

/** What the callback needs to finish the sign-in the login step started. */
export interface LoginState {
  tenantId: string;
  issuer: string;
  clientId: string;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  returnTo: string;
}

function secret(env: Env): Uint8Array {
  if (!env.SESSION_SECRET) throw new ApiError('unavailable', 'Sign-in is not configured (SESSION_SECRET is not set)');
  return new TextEncoder().encode(env.SESSION_SECRET);
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

/**
 * Keeps the login's state, nonce and PKCE verifier in a signed, HttpOnly cookie rather than on
 * the server. SameSite=Lax, unlike the session cookie: the IdP sends the browser back with a
 * cross-site top-level GET, on which browsers send Lax cookies but not Strict ones. It carries
 * nothing that opens a session by itself (the code is needed too, and it is single-use).
 */
export async function setLoginState(c: Context<AppEnv>, s: LoginState): Promise<void> {
  const token = await new SignJWT({ tid: s.tenantId, idp: s.issuer, cid: s.clientId, st: s.state, nn: s.nonce, cv: s.verifier, ru: s.redirectUri, rt: s.returnTo })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(`${LOGIN_STATE_TTL_SECONDS}s`)
    .setAudience(AUDIENCE)
    .sign(secret(c.env));
  setCookie(c, LOGIN_STATE_COOKIE, token, { httpOnly: true, sameSite: 'Lax', secure: isHttps(c), path: COOKIE_PATH, maxAge: LOGIN_STATE_TTL_SECONDS });
}

/** The pending login of this browser, if its cookie is present, authentic and fresh. */
export async function readLoginState(c: Context<AppEnv>): Promise<LoginState | undefined> {
  const token = getCookie(c, LOGIN_STATE_COOKIE);
  if (!token) return undefined;
  try {
    const { payload: p } = await jwtVerify(token, secret(c.env), { audience: AUDIENCE, algorithms: ['HS256'] });
    const fields = [p.tid, p.idp, p.cid, p.st, p.nn, p.cv, p.ru, p.rt];
    if (!fields.every((f) => typeof f === 'string')) return undefined;
    return {
      tenantId: p.tid as string,
      issuer: p.idp as string,
      clientId: p.cid as string,
      state: p.st as string,
      nonce: p.nn as string,
      verifier: p.cv as string,
      redirectUri: p.ru as string,
      returnTo: p.rt as string,
    };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    return undefined;
  }
}

/** A login state is used once: the callback clears it whatever the outcome. */
export function clearLoginState(c: Context): void {
  deleteCookie(c, LOGIN_STATE_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'Lax', secure: isHttps(c) });
}

/**
 * Login CSRF: another site must not start a sign-in in this browser, or it could sign the victim
 * into a tenant (and identity provider) of the attacker's choosing, replacing their session. A
 * sign-in starts from this site's own page (`Sec-Fetch-Site: same-origin`) or from the address
 * bar or a bookmark (`none`). Browsers too old to send Fetch Metadata are judged by `Origin` or
 * `Referer` when present; a client that sends none of them is not a browser another site drives.
 * Returns why the start is refused, or undefined when it may go on.
 */
export function crossSiteLoginStart(headers: { get(name: string): string | null }, requestUrl: string): string | undefined {
  const site = headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin' || site === 'none' ? undefined : `the sign-in was started by another site (Sec-Fetch-Site: ${site.slice(0, 20)})`;
  const own = new URL(requestUrl).origin;
  for (const name of ['origin', 'referer']) {
    const value = headers.get(name);
    if (value === null || value === '') continue;
    let origin: string;
    try {
      origin = new URL(value).origin;
    } catch {
      return `the sign-in was started from an unreadable ${name}`;
    }
    return origin === own ? undefined : `the sign-in was started by another site (${name} ${origin.slice(0, 200)})`;
  }
  return undefined;
}
