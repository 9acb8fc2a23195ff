import { z } from '@hono/zod-openapi';
import { and, desc, eq } from 'drizzle-orm';
import { route, router } from '../api/route';
import { CancelSchema, CreateRunSchema, IdParam, ReviewSchema, RunSchema, RunStepParams, RunSummarySchema, ResultRefSchema, RunTraceSchema, StepSchema, listOf } from '../api/schemas';
import { requireRole } from '../auth/middleware';
import { makeDb } from '../db/client';
import { runSteps, runs } from '../db/schema';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/errors';
import { runClient, type RpcResult } from '../runs/client';
import { createRun, idempotencyKeyOf } from '../runs/create';
import { mayReview, reviewedBy } from '../runs/approval-rules';
import { activePolicy } from '../store/policies';
import type { Context } from 'hono';
import type { Decision } from '../policy/decide';
import { roleOf } from '../policy/schema';
import type { ApprovalRecord, RunView, TraceRecord } from '../runs/types';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { afterCursor, cursorOf } from '../lib/cursor';

/** The run's stub, after checking in D1 that the run belongs to the caller's tenant (else 404). */
async function ownedRun(c: Context<AppEnv>, id: string) {
  const p = c.get('principal');
  const [row] = await makeDb(c.env.DB)
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.id, id), eq(runs.tenantId, p.tenantId)))
    .limit(1);
  if (!row) throw ApiError.notFound('Run');
  return runClient(c.env, p.tenantId, id);
}

function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.code, result.message);
}

const RunListQuery = z.object({
  status: z.enum(['queued', 'planning', 'running', 'awaiting_approval', 'succeeded', 'failed', 'denied', 'cancelled']).optional(),
  runbook: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().max(200).optional().describe('Cursor: the next_cursor of the previous page'),
});

const ApprovalItem = z
  .object({ run_id: z.string(), runbook: z.string(), step_id: z.string(), tool: z.string(), args: z.unknown(), decision: z.unknown(), requested_by: z.string(), requested_by_person: z.string().optional().describe('The person who started the run (DESIGN §14)'), requested_at: z.string().nullable() })
  .openapi('PendingApproval');

export const runRoutes = router()
  .openapi(
    route({
      method: 'post',
      path: '/runs',
      summary: 'Start a run. With an Idempotency-Key header, a retry of the same request answers 200 with the run the first one started',
      tags: ['runs'],
      body: CreateRunSchema,
      response: z.object({ id: z.string(), status: z.string(), replayed: z.boolean().describe('True when an earlier request with the same Idempotency-Key is answered') }),
      status: 201,
      alsoStatus: [200],
    }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'operator', 'start runs');
      const body = c.req.valid('json');
      const key = idempotencyKeyOf(c.req.header('idempotency-key'));
      const { run, replayed } = await createRun(c.env, makeDb(c.env.DB), p, body, key);
      return c.json({ id: run.id, status: run.status, replayed }, replayed ? 200 : 201);
    },
  )
  .openapi(route({ method: 'get', path: '/runs', summary: 'List runs, newest first', tags: ['runs'], query: RunListQuery, response: listOf(RunSummarySchema).extend({ next_cursor: z.string().nullable() }) }), async (c) => {
    const p = c.get('principal');
    const q = c.req.valid('query');
    const conds = [eq(runs.tenantId, p.tenantId)];
    if (q.status) conds.push(eq(runs.status, q.status));
    if (q.runbook) conds.push(eq(runs.runbookName, q.runbook));
    if (q.before) conds.push(afterCursor(runs.createdAt, runs.id, q.before));
    const rows = await makeDb(c.env.DB).select().from(runs).where(and(...conds)).orderBy(desc(runs.createdAt), desc(runs.id)).limit(q.limit);
    return c.json({
      items: rows.map((r) => ({
        id: r.id,
        runbook: r.runbookName,
        runbook_version: r.runbookVersion,
        status: r.status,
        mode: r.mode,
        reason: r.reason,
        actor: { type: r.actorType, id: r.actorId, ...(r.actorPerson ? { person: r.actorPerson } : {}) },
        created_at: r.createdAt,
        ended_at: r.endedAt,
      })),
      next_cursor: rows.length === q.limit ? cursorOf(rows[rows.length - 1]!) : null,
    }, 200);
  })
  .openapi(route({ method: 'get', path: '/runs/{id}', summary: 'Get a run with its steps', tags: ['runs'], params: IdParam, response: RunSchema }), async (c) => {
    const stub = await ownedRun(c, c.req.valid('param').id);
    const view = await stub.view();
    if (!view) throw ApiError.notFound('Run');
    // Reading a run also repairs one whose alarm went missing (e.g. storage restored from a copy).
    c.executionCtx.waitUntil(stub.ensureScheduled().catch(() => undefined));
    return c.json(view, 200);
  })
  .openapi(
    route({ method: 'get', path: '/runs/{id}/events', summary: 'Events of a run after a sequence number (polling alternative to /live)', tags: ['runs'], params: IdParam, query: z.object({ after: z.coerce.number().int().min(0).default(0) }), response: listOf(z.record(z.string(), z.unknown())) }),
    async (c) => {
      const stub = await ownedRun(c, c.req.valid('param').id);
      return c.json({ items: await stub.events(c.req.valid('query').after) }, 200);
    },
  )
  .openapi(
    route({ method: 'get', path: '/runs/{id}/trace', summary: "The run's agent calls: agent, provider, model, prompt version, tokens, cost, latency, answer", tags: ['runs'], params: IdParam, response: RunTraceSchema }),
    async (c) => {
      const stub = await ownedRun(c, c.req.valid('param').id);
      const [items, view] = await Promise.all([stub.traces(), stub.view()]);
      if (!view) throw ApiError.notFound('Run');
      const sum = (pick: (t: TraceRecord) => number) => items.reduce((n, t) => n + pick(t), 0);
      return c.json({
        items,
        hallucinations: view.hallucinations ?? [],
        totals: {
          calls: items.length,
          input_tokens: sum((t) => t.input_tokens),
          output_tokens: sum((t) => t.output_tokens),
          cost_usd: Math.round(sum((t) => t.cost_usd) * 1e8) / 1e8,
        },
      }, 200);
    },
  )
  .openapi(
    route({ method: 'get', path: '/runs/{id}/steps/{stepId}/result', summary: "A step's whole result (a large one is only previewed in the run view)", tags: ['runs'], params: RunStepParams, response: z.object({ step_id: z.string(), result: z.unknown(), result_ref: ResultRefSchema.optional() }) }),
    async (c) => {
      const { id, stepId } = c.req.valid('param');
      const found = await (await ownedRun(c, id)).stepResult(stepId);
      if (!found.found) throw ApiError.notFound('Step');
      return c.json({ step_id: stepId, result: found.result, ...(found.ref ? { result_ref: found.ref } : {}) }, 200);
    },
  )
  .openapi(route({ method: 'post', path: '/runs/{id}/compensate', summary: 'Retry the failed compensations of a finished run (after a person looked)', tags: ['runs'], params: IdParam, response: RunSchema }), async (c) => {
    const p = c.get('principal');
    requireRole(p, 'sre', 'retry compensation');
    const stub = await ownedRun(c, c.req.valid('param').id);
    return c.json(unwrap(await stub.retryCompensation({ ...p.actor, role: p.role })), 200);
  })
  .openapi(route({ method: 'post', path: '/runs/{id}/steps/{stepId}/approve', summary: 'Approve a waiting step', tags: ['runs'], params: RunStepParams, body: ReviewSchema, response: StepSchema }), (c) => review(c, 'approve'))
  .openapi(route({ method: 'post', path: '/runs/{id}/steps/{stepId}/deny', summary: 'Deny a waiting step', tags: ['runs'], params: RunStepParams, body: ReviewSchema, response: StepSchema }), (c) => review(c, 'deny'))
  .openapi(route({ method: 'post', path: '/runs/{id}/cancel', summary: 'Cancel a run (optionally compensating completed steps)', tags: ['runs'], params: IdParam, body: CancelSchema, response: RunSchema }), async (c) => {
    const p = c.get('principal');
    requireRole(p, 'operator', 'cancel runs');
    const stub = await ownedRun(c, c.req.valid('param').id);
    const run = unwrap(await stub.cancel({ ...p.actor, role: p.role }, c.req.valid('json').compensate));
    return c.json(run, 200);
  })
  .openapi(route({ method: 'get', path: '/approvals', summary: 'Steps waiting for an approval the caller may give', tags: ['runs'], response: listOf(ApprovalItem) }), async (c) => {
    const p = c.get('principal');
    const db = makeDb(c.env.DB);
    const policy = await activePolicy(db, p.tenantId).catch(() => undefined);
    if (!(policy && roleOf(policy.spec, p.role)?.approve)) return c.json({ items: [] }, 200);
    const rows = await db
      .select({ step: runSteps, runbook: runs.runbookName, actorId: runs.actorId, actorPerson: runs.actorPerson })
      .from(runSteps)
      .innerJoin(runs, eq(runs.id, runSteps.runId))
      .where(and(eq(runSteps.tenantId, p.tenantId), eq(runs.tenantId, p.tenantId), eq(runSteps.status, 'awaiting_approval')))
      .orderBy(desc(runs.createdAt))
      .limit(200);
    const visible = [];
    const me = { id: p.actor.id, role: p.role, ...(p.person ? { person: p.person } : {}) };
    for (const r of rows) {
      const requester = { id: r.actorId, ...(r.actorPerson ? { person: r.actorPerson } : {}) };
      if (mayReview(r.step.decision as Decision | null ?? undefined, { ...me, canApprove: true }, requester)) continue;
      // A step waiting for more approvals (quorum) leaves the inbox of those who reviewed these arguments.
      const approvals = (r.step.approvals as ApprovalRecord[] | null) ?? [];
      if (approvals.length > 0 && reviewedBy(approvals, await sha256Hex(canonicalJson(r.step.args ?? {})), me)) continue;
      visible.push(r);
    }
    const items = visible
      .map((r) => ({ run_id: r.step.runId, runbook: r.runbook, step_id: r.step.stepId, tool: r.step.tool, args: r.step.args, decision: r.step.decision, requested_by: r.actorId, ...(r.actorPerson ? { requested_by_person: r.actorPerson } : {}), requested_at: r.step.startedAt }));
    return c.json({ items }, 200);
  });

async function review(c: Context<AppEnv>, verdict: 'approve' | 'deny') {
  const p = c.get('principal');
  const { id, stepId } = c.req.param() as { id: string; stepId: string };
  const body = ReviewSchema.parse(await c.req.json().catch(() => ({})));
  const stub = await ownedRun(c, id);
  const policy = await activePolicy(makeDb(c.env.DB), p.tenantId);
  const canApprove = roleOf(policy.spec, p.role)?.approve === true;
  const step = unwrap(await stub.review(stepId, { type: p.actor.type, id: p.actor.id, role: p.role, ...(p.person ? { person: p.person } : {}) }, verdict, body.comment, canApprove));
  return c.json(step, 200);
}
