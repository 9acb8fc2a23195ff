import { z } from '@hono/zod-openapi';
import { readYamlDocument } from '../api/body';
import { audit, route, router } from '../api/route';
import { CreatedDocSchema, IdParam, listOf } from '../api/schemas';
import { requireRole } from '../auth/middleware';
import { makeDb } from '../db/client';
import { ApiError } from '../lib/errors';
import { activatePolicy, createPolicy, findPolicy, listPolicies } from '../store/policies';

const PolicySummary = z.object({ id: z.string(), name: z.string(), version: z.number(), active: z.boolean(), created_at: z.string() }).openapi('PolicySummary');

export const policyRoutes = router()
  .openapi(
    route({ method: 'post', path: '/policies', summary: 'Save a policy version from YAML', tags: ['policies'], body: z.object({ yaml: z.string() }), rawBody: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], response: CreatedDocSchema, status: 201 }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'admin', 'manage policies');
      const created = await createPolicy(makeDb(c.env.DB), p.tenantId, await readYamlDocument(c), p.actor.id);
      await audit(c, { action: 'policy.created', resource: { type: 'policy', id: created.id }, data: created });
      return c.json(created, 201);
    },
  )
  .openapi(route({ method: 'get', path: '/policies', summary: 'List policy versions', tags: ['policies'], response: listOf(PolicySummary) }), async (c) =>
    c.json({ items: await listPolicies(makeDb(c.env.DB), c.get('principal').tenantId) }, 200),
  )
  .openapi(route({ method: 'get', path: '/policies/{id}', summary: 'Get a policy version with its YAML', tags: ['policies'], params: IdParam, response: PolicySummary.extend({ yaml: z.string(), spec: z.record(z.string(), z.unknown()) }) }), async (c) => {
    const p = c.get('principal');
    const db = makeDb(c.env.DB);
    const row = await findPolicy(db, p.tenantId, c.req.valid('param').id);
    if (!row) throw ApiError.notFound('Policy');
    const active = (await listPolicies(db, p.tenantId)).find((x) => x.id === row.id)?.active ?? false;
    return c.json({ id: row.id, name: row.name, version: row.version, active, created_at: row.createdAt, yaml: row.yaml, spec: row.spec as Record<string, unknown> }, 200);
  })
  .openapi(route({ method: 'post', path: '/policies/{id}/activate', summary: 'Make a policy version the active one', tags: ['policies'], params: IdParam, response: CreatedDocSchema.extend({ active: z.boolean() }) }), async (c) => {
    const p = c.get('principal');
    requireRole(p, 'admin', 'manage policies');
    const activated = await activatePolicy(makeDb(c.env.DB), p.tenantId, c.req.valid('param').id);
    await audit(c, { action: 'policy.activated', resource: { type: 'policy', id: activated.id }, data: { name: activated.name, version: activated.version } });
    return c.json(activated, 200);
  });
