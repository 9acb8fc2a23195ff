import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/errors';
import { SESSION_COOKIE } from './session';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the gate reads of a request. */
export interface RequestFacts {
  url: string;
  origin?: string | null;
  secFetchSite?: string | null;
}

/**
 * Why a browser request must be refused as cross-site, or undefined. The browser says where a
 * request comes from: `Sec-Fetch-Site` (every current browser) must be `same-origin` (or `none`,
 * something the person did themselves); without it, `Origin` must be this origin. A client that
 * sends neither is not a browser acting for a page, which is what forgery needs.
 */
export function crossSiteReason(r: RequestFacts): string | undefined {
  const site = r.secFetchSite?.toLowerCase();
  if (site) return site === 'same-origin' || site === 'none' ? undefined : `the browser says it came from a ${site} page (Sec-Fetch-Site)`;
  if (r.origin) return r.origin === new URL(r.url).origin ? undefined : `it came from ${r.origin.slice(0, 200)} (Origin), not this site`;
  return undefined;
}

/**
 * Cross-site request forgery gate for what a browser authenticates by itself: requests carrying
 * the session cookie (and sign-in, which sets it) that change something, and WebSocket upgrades.
 * SameSite=Strict keeps the cookie off other sites' requests; this also refuses a sibling site
 * (same-site is not same-origin), bodyless POSTs and `text/plain` forms, whatever the browser.
 * A request with `Authorization` is the caller's own doing and is not affected.
 */
export const sameOriginForCookies: MiddlewareHandler<AppEnv> = async (c, next) => {
  const upgrade = c.req.header('upgrade');
  const changes = !SAFE.has(c.req.method) || upgrade?.toLowerCase() === 'websocket';
  const signIn = new URL(c.req.url).pathname.endsWith('/session');
  if (changes && !c.req.header('authorization') && (signIn || getCookie(c, SESSION_COOKIE) !== undefined)) {
    const reason = crossSiteReason({ url: c.req.url, origin: c.req.header('origin'), secFetchSite: c.req.header('sec-fetch-site') });
    if (reason) throw new ApiError('forbidden', `Cross-site request refused: ${reason}`);
  }
  await next();
};
