import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { sameOriginForCookies } from './auth/csrf';
import { authenticate } from './auth/middleware';
import { rateLimit, rateLimitByAddress } from './auth/rate-limit';
import type { AppEnv } from './env';
import { ApiError, errorBody, handleError } from './lib/errors';
import { newId } from './lib/crypto';
import { analyticsRoutes } from './routes/analytics';
import { auditRoutes } from './routes/audit';
import { bootstrapRoutes } from './routes/bootstrap';
import { DOCS_HTML, metaRoutes } from './routes/meta';
import { policyRoutes } from './routes/policies';
import { runbookRoutes } from './routes/runbooks';
import { runRoutes } from './routes/runs';
import { shadowRoutes } from './routes/shadow';
import { evalRoutes } from './routes/evals';
import { secretsRoutes } from './routes/secrets';
import { sessionRoutes, tenantRoutes } from './routes/tenants';
import { authRoutes } from './routes/auth';
import { settingsRoutes } from './routes/settings';
import { hookRoutes } from './routes/hooks';
import { integrationRoutes } from './routes/integrations';
import { toolRoutes } from './routes/tools';
import { liveRoute } from './routes/live';
import { metricsRoutes } from './routes/metrics';
import { observe } from './observability/middleware';
import { clusterConnectRoute, clusterRoutes } from './routes/clusters';
import { doctorRoutes } from './routes/doctor';
import { peopleRoutes } from './routes/people';

const MAX_BODY_BYTES = 1024 * 1024;

/** Mounts a resource's sub-app; typed loosely because the merged route types grow too large for tsc. */
function mount(api: OpenAPIHono<AppEnv>, sub: unknown): void {
  api.route('/', sub as OpenAPIHono<AppEnv>);
}

export function buildApp() {
  const api = new OpenAPIHono<AppEnv>();
  api.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    c.set('requestId', incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : newId('req'));
    await next();
    c.header('x-request-id', c.get('requestId'));
  });
  api.use('*', observe);
  api.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError('payload_too_large', `Request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  // Before every route, sign-in included: the cookie's requests must come from this site.
  api.use('*', sameOriginForCookies);
  api.onError(handleError);
  api.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`, c.get('requestId') ?? 'unknown'), 404));

  // Public routes first; everything registered after `authenticate` needs a key or a session.
  mount(api, metaRoutes);
  mount(api, metricsRoutes);
  api.use('/session', rateLimitByAddress);
  api.use('/bootstrap', rateLimitByAddress);
  mount(api, sessionRoutes);
  mount(api, authRoutes);
  mount(api, bootstrapRoutes);
  mount(api, hookRoutes);
  // The k8s relay authenticates with its cluster token, not an API key.
  mount(api, clusterConnectRoute);
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key: ark_…' });
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'AgentRunbook API', version: '1.0.0', description: 'Runbooks executed by AI agents under guardrails.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
  });
  api.get('/docs', (c) => c.html(DOCS_HTML));

  api.use('*', authenticate);
  api.use('*', rateLimit);
  mount(api, tenantRoutes);
  mount(api, peopleRoutes);
  mount(api, settingsRoutes);
  mount(api, secretsRoutes);
  mount(api, integrationRoutes);
  mount(api, runbookRoutes);
  mount(api, runRoutes);
  mount(api, shadowRoutes);
  mount(api, evalRoutes);
  mount(api, liveRoute);
  mount(api, toolRoutes);
  mount(api, policyRoutes);
  mount(api, auditRoutes);
  mount(api, analyticsRoutes);
  mount(api, clusterRoutes);
  mount(api, doctorRoutes);

  const app = new OpenAPIHono<AppEnv>();
  app.route('/api/v1', api);
  app.onError(handleError);
  // Anything else is the UI (assets are served before the Worker for non-API paths; this is the fallback).
  app.all('*', async (c) => {
    if (new URL(c.req.url).pathname.startsWith('/api/')) {
      return c.json(errorBody('not_found', 'No such API route', newId('req')), 404);
    }
    return c.env.ASSETS ? c.env.ASSETS.fetch(c.req.raw) : c.text('UI not built: run npm run build:web', 404);
  });
  return app;
}
