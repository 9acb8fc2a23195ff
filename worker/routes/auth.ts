import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { router } from '../api/route';
import { auditAppend } from '../audit/append';
import { OidcError } from '../auth/oidc-error';
import { clearLoginState, crossSiteLoginStart, readLoginState, setLoginState } from '../auth/oidc-login-state';
import { beginOidcLogin, completeOidcLogin } from '../auth/oidc-signin';
import { safeReturnTo } from '../auth/return-to';
import { openSession, setSessionCookie } from '../auth/session';
import { makeDb } from '../db/client';
import type { AppEnv } from '../env';
import { notePersonSignIn } from '../store/people';

const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

const redirectResponses = {
  302: { description: 'To the identity provider, or to `/login?error=<code>&error_description=<text>` when sign-in cannot start' },
} as const;

/**
 * Sign-in failures go back to the UI's sign-in page with a short code and a sentence (never a
 * token); the page shows them. A browser is on the other end here, not an API client.
 */
function refuse(c: Context<AppEnv>, err: OidcError): Response {
  const to = new URLSearchParams({ error: err.reason, error_description: err.message });
  c.header('cache-control', 'no-store');
  return c.redirect(`/login?${to.toString()}`, 302);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The callback arrives as a cross-site navigation (the IdP sent the browser back), and a browser
 * does not send a SameSite=Strict cookie on a redirect chain that another site started. So
 * instead of a 302 the callback answers this page, which moves on by itself: that navigation
 * starts on this origin, so the new Strict session cookie goes with it. No script, so a strict
 * CSP holds; no referrer, so the code in the callback URL goes nowhere.
 */
function continuePage(c: Context<AppEnv>, returnTo: string): Response {
  const href = escapeHtml(returnTo);
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
      `<meta http-equiv="refresh" content="0; url=${href}"><title>Signed in</title></head>` +
      `<body style="font-family: system-ui, sans-serif"><p>Signed in. <a href="${href}">Continue</a></p></body></html>`,
    200,
  );
}

export const authRoutes = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/auth/oidc/{tenant}/login',
      summary: 'Start signing in with the tenant\'s identity provider (OIDC, authorization code + PKCE)',
      tags: ['session'],
      security: [],
      request: {
        params: z.object({ tenant: z.string().min(1).max(200) }),
        query: z.object({ return_to: z.string().max(2000).optional().describe('A path on this site to land on afterwards (default `/`)') }),
      },
      responses: redirectResponses,
    }),
    async (c) => {
      const { tenant } = c.req.valid('param');
      const crossSite = crossSiteLoginStart(c.req.raw.headers, c.req.url);
      if (crossSite) return refuse(c, new OidcError('cross_site_start', `Sign-in refused: ${crossSite}. Start it from this site's sign-in page.`));
      const returnTo = safeReturnTo(c.req.valid('query').return_to);
      if (!returnTo) return refuse(c, new OidcError('invalid_return_to', 'return_to must be a path on this site, such as /runs'));
      const redirectUri = new URL(CALLBACK_PATH, c.req.url).toString();
      let started: Awaited<ReturnType<typeof beginOidcLogin>>;
      try {
        started = await beginOidcLogin(c.env, makeDb(c.env.DB), tenant, redirectUri, returnTo);
      } catch (err) {
        if (err instanceof OidcError) return refuse(c, err);
        throw err;
      }
      await setLoginState(c, started.state);
      c.header('cache-control', 'no-store');
      return c.redirect(started.url, 302);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/auth/oidc/callback',
      summary: 'Where the identity provider sends the browser back; opens a session and continues to return_to',
      tags: ['session'],
      security: [],
      request: {
        query: z.object({
          code: z.string().max(4096).optional(),
          state: z.string().max(512).optional(),
          error: z.string().max(256).optional(),
          iss: z.string().max(2000).optional().describe('RFC 9207: the issuer that answers'),
        }),
      },
      responses: {
        200: { description: 'Signed in: sets the session cookie and continues to return_to', content: { 'text/html': { schema: z.string() } } },
        302: { description: 'Refused: to `/login?error=<code>&error_description=<text>`' },
      },
    }),
    async (c) => {
      const pending = await readLoginState(c);
      clearLoginState(c);
      if (!pending) {
        return refuse(c, new OidcError('login_expired', 'This sign-in expired or was started in another browser; start again'));
      }
      const db = makeDb(c.env.DB);
      const { code, state, error, iss } = c.req.valid('query');
      try {
        const { identity, role, groupsRole } = await completeOidcLogin(c.env, db, pending, { code, state, error, iss });
        await notePersonSignIn(db, { tenantId: pending.tenantId, id: identity.person, email: identity.email, name: identity.name, oidcSubject: identity.subject, groupsRole });
        const ticket = await openSession(c.env, db, {
          tenantId: pending.tenantId,
          kind: 'oidc',
          subject: identity.subject,
          person: identity.person,
          role,
          email: identity.email,
          name: identity.name,
          groups: identity.groups,
        });
        setSessionCookie(c, ticket);
        await auditAppend(c.env, pending.tenantId, [
          {
            actor: { type: 'user', id: identity.subject },
            action: 'session.login',
            resource: { type: 'session', id: ticket.id },
            data: { method: 'oidc', issuer: identity.issuer, subject: identity.sub, person: identity.person, email: identity.email, name: identity.name, groups: identity.groups, role, expires_at: ticket.expiresAt },
          },
        ]);
        return continuePage(c, safeReturnTo(pending.returnTo) ?? '/');
      } catch (err) {
        if (!(err instanceof OidcError)) throw err;
        await auditAppend(c.env, pending.tenantId, [
          {
            actor: { type: 'user', id: err.identity?.subject ?? 'unknown' },
            action: 'session.login_refused',
            resource: { type: 'oidc_issuer', id: pending.issuer },
            data: { method: 'oidc', issuer: pending.issuer, subject: err.identity?.sub, email: err.identity?.email, groups: err.identity?.groups, reason: err.reason, message: err.message },
          },
        ]);
        return refuse(c, err);
      }
    },
  );
