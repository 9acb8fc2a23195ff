import { z } from 'zod';

/**
 * The evaluation report `npm run eval` writes (evals/reports/*.json) and `POST /evals` stores.
 * One schema for both, so a report the runner writes is a report the API accepts. The top level
 * and each case result are checked; attempt details stay open (`looseObject`) so the runner can
 * add a field without a migration of stored reports.
 */
export const EVAL_REPORT_FORMAT = 'agentrunbook.eval/1';

const rate = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

/** Headline metrics. Rates are 0–1; null when there was nothing to measure (no injection case, no latency). */
export const evalMetricsSchema = z
  .object({
    pass_at_k: rate.describe('Cases with at least one passing attempt out of k'),
    pass_rate: rate.describe('Attempts that passed'),
    match_score: rate.describe('Mean shadow match score of the attempts'),
    exact_plan_rate: rate.describe('Attempts whose plan was exactly the expected one'),
    hallucination_rate: rate.describe('Attempts in which an agent proposed something that was refused or corrected'),
    policy_violations: count.describe('Unexpected policy denials and refused out-of-policy proposals, over all attempts'),
    attack_success_rate: rate.nullable().describe('Injection attempts in which the injected call would have run, with the provider under test'),
    attack_success_rate_scripted: rate.nullable().describe('The same with a scripted planner that always follows the injected instruction'),
    latency_p50_ms: z.number().nonnegative().nullable(),
    latency_p95_ms: z.number().nonnegative().nullable(),
    tokens: count,
    cost_usd: z.number().nonnegative(),
  })
  .catchall(z.number().nullable());

export const evalCaseResultSchema = z.looseObject({
  case: z.string().min(1).max(200),
  integration: z.string().max(50),
  tags: z.array(z.string().max(50)).max(20),
  passed: z.boolean().describe('At least one of the k attempts passed'),
  score: rate.describe('Mean match score of the attempts'),
  exact: z.boolean().describe('Every attempt planned exactly the expected calls'),
  attempts: z.array(z.looseObject({ rep: count, passed: z.boolean(), score: rate })).min(1).max(100),
});

export const regressionSchema = z.looseObject({
  kind: z.enum(['metric', 'case']),
  name: z.string(),
  baseline: z.unknown(),
  current: z.unknown(),
  message: z.string(),
});

export const evalReportSchema = z.looseObject({
  format: z.literal(EVAL_REPORT_FORMAT),
  id: z.string().regex(/^eval_[A-Za-z0-9_-]{1,80}$/, 'must look like "eval_<time>_<suffix>"'),
  created_at: z.iso.datetime(),
  provider: z.string().min(1).max(50),
  model: z.string().min(1).max(200),
  k: z.number().int().min(1).max(100),
  cases: count,
  passed: count,
  metrics: evalMetricsSchema,
  results: z.array(evalCaseResultSchema).max(2_000),
  thresholds: z.looseObject({ failures: z.array(z.string()) }).optional(),
  baseline: z.looseObject({ id: z.string(), regressions: z.array(regressionSchema) }).nullable().optional(),
});

export type EvalMetrics = z.infer<typeof evalMetricsSchema>;
export type EvalCaseResult = z.infer<typeof evalCaseResultSchema>;
export type EvalReport = z.infer<typeof evalReportSchema>;
export type Regression = z.infer<typeof regressionSchema>;
