import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../env';
import { log, registerSecrets } from './log';
import { traceInvocation } from './tracing';

function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    // No execution context (a direct app.fetch in a script): let the export finish on its own.
    return (p) => void p.catch(() => undefined);
  }
}

/**
 * The route pattern that answered (`/api/v1/runs/:id`), so spans and logs group by route, not by id.
 * After `next()` the route index is the last handler dispatched, which is the one that answered.
 */
function routeOf(c: Context<AppEnv>): string | undefined {
  try {
    const path = routePath(c);
    return path && !path.endsWith('*') ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One span and one log line per API request: method, path (never the query, which can carry
 * codes and tokens), route, status, duration, request id, tenant and principal. Headers, cookies
 * and bodies are never logged. `LOG_LEVEL=warn` (or `error`) keeps only the lines of failed
 * requests (5xx), for deployments and test runs that want a quiet console.
 */
export const observe: MiddlewareHandler<AppEnv> = async (c, next) => {
  registerSecrets(c.env);
  const started = Date.now();
  const method = c.req.method;
  const path = new URL(c.req.url).pathname;
  await traceInvocation(
    c.env,
    waitUntilOf(c),
    `${method} ${path}`,
    { 'http.request.method': method, 'url.path': path, 'agentrunbook.request_id': c.get('requestId') },
    async (span) => {
      try {
        await next();
      } finally {
        const route = routeOf(c);
        const status = c.res.status;
        const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
        if (route) {
          span.setName(`${method} ${route}`);
          span.setAttribute('http.route', route);
        }
        span.setAttributes({
          'http.response.status_code': status,
          'agentrunbook.tenant': principal?.tenantId,
          'agentrunbook.principal': principal ? `${principal.actor.type}:${principal.actor.id}` : undefined,
        });
        if (status >= 500) span.fail(`HTTP ${status}`);
        const fields = {
          request_id: c.get('requestId'),
          method,
          path,
          ...(route ? { route } : {}),
          status,
          duration_ms: Date.now() - started,
          ...(principal ? { tenant: principal.tenantId, principal: { type: principal.actor.type, id: principal.actor.id, role: principal.role } } : {}),
        };
        const level = (c.env as { LOG_LEVEL?: string }).LOG_LEVEL?.toLowerCase();
        if (status >= 500) log.error('request', fields);
        else if (level !== 'warn' && level !== 'error') log.info('request', fields);
      }
    },
    { kind: 'server', parent: c.req.header('traceparent') },
  );
};
