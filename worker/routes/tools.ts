import { z } from '@hono/zod-openapi';
import { route, router } from '../api/route';
import { DecisionSchema, Json, StepSchema } from '../api/schemas';
import { audit } from '../api/route';
import { requireRole } from '../auth/middleware';
import { invokeTool } from '../runs/adhoc';
import { limitCounts, tenantCostToday } from '../policy/usage';
import { runClient } from '../runs/client';
import { idempotencyKeyOf } from '../runs/create';
import { TERMINAL_RUN, type RunView } from '../runs/types';
import { makeDb } from '../db/client';
import { ApiError, zodDetails } from '../lib/errors';
import { decide } from '../policy/decide';
import { platformCeilings, withCeilings } from '../policy/ceilings';
import { loadFacts } from '../policy/facts-load';
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
      const db = makeDb(c.env.DB);
      const spec = withCeilings((await activePolicy(db, p.tenantId)).spec, platformCeilings(c.env));
      const now = Date.now();
      const callArgs = args.data as Record<string, unknown>;
      const facts = await loadFacts(db, p.tenantId, tool.id, callArgs, now);
      // The same inputs the run engine gives decide(): the trusted facts, the tenant's spend today and
      // the blast-radius windows, so the answer says "denied: limit reached" when a run would be told so.
      const decision = decide(spec, {
        tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
        args: callArgs,
        actor: { type: p.actor.type, id: p.actor.id, role: p.role },
        context: body.context,
        facts,
        usage: {
          tenant: { cost_usd_today: await tenantCostToday(db, p.tenantId, '', now) },
          limits: await limitCounts(db, p.tenantId, spec, tool.id, now),
        },
      });
      return c.json({ ...decision, facts, operations: tool.dryRun(args.data) }, 200);
    },
  )
  .openapi(
    route({
      method: 'post',
      path: '/tools/invoke',
      summary: 'Make one tool call under the policy: decided, approved if needed, executed once, audited',
      tags: ['tools'],
      body: z
        .object({
          tool: z.string().min(1),
          args: Json.default({}),
          context: Json.default({}),
          mode: z.enum(['execute', 'dry_run']).default('execute'),
          reason: z.string().max(500).optional().describe('Why the call is made; kept with the run and in the audit log'),
        })
        .strict(),
      response: z
        .object({
          run_id: z.string(),
          status: z.string(),
          effect: z.enum(['allow', 'deny', 'require_approval']).nullable(),
          reasons: DecisionSchema.shape.reasons,
          step: StepSchema,
          replayed: z.boolean().describe('True when an earlier request with the same Idempotency-Key is answered'),
        })
        .openapi('ToolInvocation'),
      alsoStatus: [202],
    }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'operator', 'invoke tools');
      const body = c.req.valid('json');
      const key = idempotencyKeyOf(c.req.header('idempotency-key'));
      const db = makeDb(c.env.DB);
      const { run: started, replayed } = await invokeTool(c.env, db, p, { ...body, idempotencyKey: key });
      let run: RunView = started;
      if (!replayed) {
        await audit(c, {
          action: 'tool.invoked',
          resource: { type: 'run', id: run.id },
          data: { tool: body.tool, args: body.args, mode: body.mode, ...(body.reason ? { reason: body.reason } : {}) },
        });
        // Work on it now, so an allowed call answers with its outcome rather than "queued".
        run = (await runClient(c.env, p.tenantId, run.id).kick()) ?? run;
      }
      const step = run.steps[0]!;
      const done = TERMINAL_RUN.has(run.status);
      return c.json(
        { run_id: run.id, status: run.status, effect: step.decision?.effect ?? null, reasons: step.decision?.reasons ?? [], step, replayed },
        done ? 200 : 202,
      );
    },
  );
