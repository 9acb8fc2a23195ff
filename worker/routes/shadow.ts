import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { route, router } from '../api/route';
import { HallucinationSchema, IdParam } from '../api/schemas';
import { makeDb } from '../db/client';
import { runs } from '../db/schema';
import { ApiError } from '../lib/errors';
import { errorFields, log } from '../observability/log';
import { runClient } from '../runs/client';
import type { RunView } from '../runs/types';
import { shadowReport } from '../shadow/report';
import { loadExpectation, recordScore } from '../shadow/store';

const Call = z.object({ tool: z.string(), args: z.record(z.string(), z.unknown()).optional(), index: z.number().int() });

const ShadowStepSchema = z
  .object({
    kind: z.enum(['matched', 'changed', 'reordered', 'missed', 'extra']),
    expected: Call.nullable().describe('The expected call (index in the expected plan); null for an extra step'),
    actual: Call.extend({ id: z.string(), args: z.record(z.string(), z.unknown()).nullable(), status: z.string().optional() })
      .nullable()
      .describe("The agent's step (index in the run's plan); null for a missed one"),
    similarity: z.number().describe('Argument similarity of the pair, 0–1'),
    differences: z.array(
      z.object({ path: z.string(), kind: z.enum(['changed', 'missing', 'added']), expected: z.unknown().optional(), actual: z.unknown().optional() }),
    ),
  })
  .openapi('ShadowStep');

const ShadowReportSchema = z
  .object({
    run_id: z.string(),
    run_status: z.string(),
    complete: z.boolean().describe('The run has ended; the comparison is final'),
    source: z.enum(['expected', 'reference_run']),
    reference_run: z.string().optional(),
    score: z.number().describe('0–1; see `scoring` and worker/shadow/score.ts'),
    exact: z.boolean().describe('Same calls, same order, same arguments'),
    summary: z.object({
      expected: z.number().int(),
      actual: z.number().int(),
      matched: z.number().int(),
      changed: z.number().int(),
      reordered: z.number().int(),
      missed: z.number().int(),
      extra: z.number().int(),
    }),
    steps: z.array(ShadowStepSchema),
    violations: z.array(z.object({ step: z.string(), tool: z.string(), kind: z.enum(['denied', 'refused']), message: z.string() })),
    hallucinations: z.array(HallucinationSchema),
    scoring: z.object({
      version: z.string(),
      reorder_factor: z.number(),
      extra_weight: z.object({ mutating: z.number(), read_only: z.number() }),
    }),
  })
  .openapi('ShadowReport');

export const shadowRoutes = router().openapi(
  route({
    method: 'get',
    path: '/runs/{id}/shadow',
    summary: "A shadow run compared with its expected plan or reference run: match score, per-step alignment and argument differences, policy violations",
    tags: ['runs'],
    params: IdParam,
    response: ShadowReportSchema,
  }),
  async (c) => {
    const p = c.get('principal');
    const id = c.req.valid('param').id;
    const db = makeDb(c.env.DB);
    const [row] = await db.select({ mode: runs.mode }).from(runs).where(and(eq(runs.tenantId, p.tenantId), eq(runs.id, id))).limit(1);
    if (!row) throw ApiError.notFound('Run');
    const expectation = await loadExpectation(db, p.tenantId, id);
    if (!expectation) {
      throw new ApiError(
        'conflict',
        row.mode === 'shadow'
          ? `Run ${id} was started without an expected plan or a reference run; there is nothing to compare it with`
          : `Run ${id} is not a shadow run (mode "${row.mode}"); start one with mode "shadow" and an expected plan`,
      );
    }
    // RPC return types lose precision on `unknown` fields; the value is the DO's RunView.
    const view = await runClient(c.env, p.tenantId, id).view();
    if (!view) throw ApiError.notFound('Run');
    const report = shadowReport(view, expectation);
    if (report.complete && expectation.score === null) {
      // The analytics trend reads the recorded score; a failure to record it must not fail the read.
      await recordScore(c.env, db, p.tenantId, report).catch((err: unknown) =>
        log.warn('shadow score not recorded', { run_id: id, tenant_id: p.tenantId, error: errorFields(err) }),
      );
    }
    return c.json(report, 200);
  },
);
