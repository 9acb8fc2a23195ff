import { z } from '@hono/zod-openapi';
import { readYamlDocument } from '../api/body';
import { audit, route, router } from '../api/route';
import { CreatedDocSchema, IdParam, RunbookSummarySchema, listOf } from '../api/schemas';
import { requireRole } from '../auth/middleware';
import { makeDb } from '../db/client';
import { archiveRunbook, createRunbook, getRunbook, listRunbooks, updateRunbook, validateRunbook } from '../store/runbooks';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];
const RunbookDetail = RunbookSummarySchema.extend({
  yaml: z.string(),
  spec: z.record(z.string(), z.unknown()),
  versions: z.array(z.object({ version: z.number(), created_at: z.string(), created_by: z.string().nullable() })),
}).openapi('Runbook');

export const runbookRoutes = router()
  .openapi(
    route({ method: 'post', path: '/runbooks', summary: 'Create a runbook from YAML', tags: ['runbooks'], body: z.object({ yaml: z.string() }), rawBody: YAML_TYPES, response: CreatedDocSchema, status: 201 }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'sre', 'write runbooks');
      const yaml = await readYamlDocument(c);
      const created = await createRunbook(makeDb(c.env.DB), p.tenantId, yaml, p.actor.id);
      await audit(c, { action: 'runbook.created', resource: { type: 'runbook', id: created.id }, data: created });
      return c.json(created, 201);
    },
  )
  .openapi(
    route({
      method: 'post',
      path: '/runbooks/validate',
      summary: 'Check runbook YAML without saving it (the editor\'s live check)',
      tags: ['runbooks'],
      body: z.object({ yaml: z.string() }),
      rawBody: YAML_TYPES,
      response: z.object({ ok: z.literal(true), name: z.string() }).openapi('RunbookValidation'),
    }),
    async (c) => {
      requireRole(c.get('principal'), 'sre', 'validate runbooks');
      const spec = validateRunbook(await readYamlDocument(c));
      return c.json({ ok: true as const, name: spec.metadata.name }, 200);
    },
  )
  .openapi(
    route({ method: 'get', path: '/runbooks', summary: 'List runbooks', tags: ['runbooks'], query: z.object({ archived: z.enum(['true', 'false']).optional() }), response: listOf(RunbookSummarySchema) }),
    async (c) => {
      const p = c.get('principal');
      const items = await listRunbooks(makeDb(c.env.DB), p.tenantId, c.req.valid('query').archived === 'true');
      return c.json({ items }, 200);
    },
  )
  .openapi(
    route({ method: 'get', path: '/runbooks/{id}', summary: 'Get a runbook (by id or name) with its YAML and versions', tags: ['runbooks'], params: IdParam, query: z.object({ version: z.coerce.number().int().positive().optional() }), response: RunbookDetail }),
    async (c) => {
      const p = c.get('principal');
      const rb = await getRunbook(makeDb(c.env.DB), p.tenantId, c.req.valid('param').id, c.req.valid('query').version);
      return c.json(rb, 200);
    },
  )
  .openapi(
    route({ method: 'put', path: '/runbooks/{id}', summary: 'Update a runbook: saves a new version, keeps the old ones', tags: ['runbooks'], params: IdParam, body: z.object({ yaml: z.string() }), rawBody: YAML_TYPES, response: CreatedDocSchema }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'sre', 'write runbooks');
      const yaml = await readYamlDocument(c);
      const updated = await updateRunbook(makeDb(c.env.DB), p.tenantId, c.req.valid('param').id, yaml, p.actor.id);
      await audit(c, { action: 'runbook.updated', resource: { type: 'runbook', id: updated.id }, data: updated });
      return c.json(updated, 200);
    },
  )
  .openapi(
    route({ method: 'delete', path: '/runbooks/{id}', summary: 'Archive a runbook (versions are kept; PUT restores it)', tags: ['runbooks'], params: IdParam, response: CreatedDocSchema.extend({ archived: z.boolean() }) }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'sre', 'archive runbooks');
      const archived = await archiveRunbook(makeDb(c.env.DB), p.tenantId, c.req.valid('param').id);
      await audit(c, { action: 'runbook.archived', resource: { type: 'runbook', id: archived.id }, data: { name: archived.name } });
      return c.json(archived, 200);
    },
  );
