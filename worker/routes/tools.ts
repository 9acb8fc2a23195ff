import { z } from '@hono/zod-openapi';
import { route, router } from '../api/route';
import { DecisionSchema, Json } from '../api/schemas';
import { makeDb } from '../db/client';
import { ApiError, zodDetails } from '../lib/errors';
import { decide } from '../policy/decide';
import { activePolicy } from '../store/policies';
import { describeTools, getTool } from '../tools/catalog';

const ToolSchema = z
  .object({
    id: z.string(),
    namespace: z.string(),
    description: z.string(),
    mutating: z.boolean(),
    risk: z.enum(['low', 'medium', 'high']),
    compensation: z.string().nullable(),
    args_schema: Json,
    result_schema: Json,
  })
  .openapi('Tool');

export const toolRoutes = router()
  .openapi(route({ method: 'get', path: '/tools', summary: 'The tool catalog with JSON Schemas', tags: ['tools'], response: z.object({ items: z.array(ToolSchema) }) }), (c) =>
    c.json({ items: describeTools() }, 200),
  )
  .openapi(
    route({
      method: 'post',
      path: '/tools/plan',
      summary: 'The policy decision for a proposed call; nothing is executed',
      tags: ['tools'],
      body: z.object({ tool: z.string().min(1), args: Json.default({}), context: Json.default({}) }).strict(),
      response: DecisionSchema.extend({ operations: z.array(z.object({ method: z.string(), target: z.string(), description: z.string() })) }),
    }),
    async (c) => {
      const p = c.get('principal');
      const body = c.req.valid('json');
      const tool = getTool(body.tool);
      if (!tool) throw ApiError.validation([{ path: 'tool', message: `unknown tool "${body.tool}"` }]);
      const args = tool.args.safeParse(body.args);
      if (!args.success) throw ApiError.validation(zodDetails(args.error, 'args'));
      const policy = await activePolicy(makeDb(c.env.DB), p.tenantId);
      const decision = decide(policy.spec, {
        tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
        args: args.data as Record<string, unknown>,
        actor: { type: p.actor.type, id: p.actor.id, role: p.role },
        context: body.context,
      });
      return c.json({ ...decision, operations: tool.dryRun(args.data) }, 200);
    },
  );
