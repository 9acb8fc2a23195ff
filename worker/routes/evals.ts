import { z } from '@hono/zod-openapi';
import { audit, route, router } from '../api/route';
import { requireRole } from '../auth/middleware';
import { makeDb } from '../db/client';
import { ApiError } from '../lib/errors';
import { cursorOf } from '../lib/cursor';
import { evalReportSchema } from '../shadow/eval-report';
import { getEvalReport, listEvalReports, saveEvalReport } from '../shadow/eval-store';

// Evaluation reports of the agents (`npm run eval`, evals/README.md): uploaded by an admin (or CI
// with an admin key), listed and read by anyone in the tenant for the UI's Evals page.

const EvalSummarySchema = z
  .object({
    id: z.string(),
    created_at: z.string().describe('When the suite ran'),
    provider: z.string(),
    model: z.string(),
    cases: z.number().int(),
    passed: z.number().int().describe('Cases with at least one passing attempt (pass@k)'),
    metrics: z.record(z.string(), z.number().nullable()).describe('match_score, exact_plan_rate, hallucination_rate, policy_violations, attack_success_rate, latency_p50_ms, latency_p95_ms, tokens, cost_usd, …'),
    uploaded_at: z.string(),
    uploaded_by: z.string().nullable(),
  })
  .openapi('EvalReportSummary');

const EvalReportSchema = z.looseObject({ ...evalReportSchema.shape, uploaded_at: z.string(), uploaded_by: z.string().nullable() }).openapi('EvalReport');

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().max(200).optional().describe('Cursor: the next_cursor of the previous page'),
});

export const evalRoutes = router()
  .openapi(
    route({
      method: 'post',
      path: '/evals',
      summary: 'Upload an evaluation report written by `npm run eval` (admin); the same report again is a no-op',
      tags: ['evals'],
      body: evalReportSchema,
      response: EvalSummarySchema,
      status: 201,
      alsoStatus: [200],
    }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'admin', 'upload evaluation reports');
      const report = c.req.valid('json');
      const { created, summary } = await saveEvalReport(makeDb(c.env.DB), p.tenantId, report, p.actor.id);
      if (created) {
        await audit(c, {
          action: 'eval.report.uploaded',
          resource: { type: 'eval_report', id: report.id },
          data: { provider: report.provider, model: report.model, cases: report.cases, passed: report.passed, k: report.k },
        });
      }
      return c.json(summary, created ? 201 : 200);
    },
  )
  .openapi(
    route({ method: 'get', path: '/evals', summary: 'Evaluation reports, newest first', tags: ['evals'], query: ListQuery, response: z.object({ items: z.array(EvalSummarySchema), next_cursor: z.string().nullable() }) }),
    async (c) => {
      const p = c.get('principal');
      const q = c.req.valid('query');
      const items = await listEvalReports(makeDb(c.env.DB), p.tenantId, q.limit, q.before);
      return c.json({ items, next_cursor: items.length === q.limit ? cursorOf({ createdAt: items[items.length - 1]!.created_at, id: items[items.length - 1]!.id }) : null }, 200);
    },
  )
  .openapi(
    route({ method: 'get', path: '/evals/{id}', summary: 'One evaluation report with its per-case results', tags: ['evals'], params: z.object({ id: z.string().min(1).max(100) }), response: EvalReportSchema }),
    async (c) => {
      const p = c.get('principal');
      const report = await getEvalReport(makeDb(c.env.DB), p.tenantId, c.req.valid('param').id);
      if (!report) throw ApiError.notFound('Evaluation report');
      return c.json(report, 200);
    },
  );
