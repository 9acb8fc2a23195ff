import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, zodDetails } from '../lib/errors';
import { auditAppend } from '../audit/append';
import type { AuditInput } from '../audit/chain';
import { ErrorSchema } from './schemas';

type ZodObj = z.ZodObject<z.ZodRawShape>;

interface RouteSpec<P extends ZodObj | undefined, Q extends ZodObj | undefined, B extends z.ZodType | undefined, R extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  path: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Extra request media types documented beside JSON (e.g. application/yaml), read by the handler. */
  rawBody?: string[];
  response: R;
  status?: 200 | 201 | 202;
  /** Other success statuses answered with the same schema (e.g. 202 while a call waits for approval). */
  alsoStatus?: (200 | 201 | 202)[];
  auth?: boolean;
}

/** Builds an OpenAPI route with the standard error responses, so every route documents the same failures. */
export function route<P extends ZodObj | undefined, Q extends ZodObj | undefined, B extends z.ZodType | undefined, R extends z.ZodType>(
  spec: RouteSpec<P, Q, B, R>,
) {
  const err = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });
  const content: Record<string, { schema: z.ZodType }> = {};
  if (spec.body) content['application/json'] = { schema: spec.body };
  for (const t of spec.rawBody ?? []) content[t] = { schema: z.string() };
  const created = createRoute({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: spec.tags,
    ...(spec.auth === false ? { security: [] } : {}),
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body || spec.rawBody ? { body: { content, required: !spec.rawBody } } : {}),
    } as { params: P; query: Q; body: B extends z.ZodType ? { content: { 'application/json': { schema: B } }; required: true } : undefined },
    responses: {
      // Typed loosely for handlers (run views cross an RPC boundary with their own types); the real
      // schema is what the OpenAPI document shows.
      [spec.status ?? 200]: { description: 'OK', content: { 'application/json': { schema: spec.response as unknown as z.ZodAny } } },
      400: err('Invalid request: `details` names each field and reason'),
      401: err('Missing or invalid credentials'),
      403: err('The caller\'s role does not allow this'),
      404: err('Not found (also for other tenants\' resources)'),
      409: err('Conflicts with the current state'),
      429: err('Rate limited: retry after `Retry-After` seconds'),
    },
  } as const);
  // Documented beside the main status, outside the handler's typed statuses (same schema).
  for (const status of spec.alsoStatus ?? []) {
    (created.responses as Record<number, unknown>)[status] = {
      description: status === 202 ? 'Accepted: not finished yet' : 'OK',
      content: { 'application/json': { schema: spec.response } },
    };
  }
  return created;
}

/** A sub-app whose validation failures answer in the API's one error shape. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? '' : result.target === 'query' ? 'query.' : result.target === 'param' ? 'path.' : '';
        throw ApiError.validation(zodDetails(result.error as unknown as z.ZodError, where.replace(/\.$/, '')));
      }
    },
  });
}

/** Writes one audit entry for a state-changing API call, as the caller. */
export function audit(c: Context<AppEnv>, input: Omit<AuditInput, 'actor'> & { actor?: AuditInput['actor'] }): Promise<number[]> {
  const p = c.get('principal');
  return auditAppend(c.env, p.tenantId, [{ ...input, actor: input.actor ?? p.actor }]);
}
