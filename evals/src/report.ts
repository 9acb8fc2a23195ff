import { EVAL_REPORT_FORMAT, evalReportSchema, type EvalMetrics, type EvalReport } from '../../worker/shadow/eval-report';
import { compareWithBaseline, type Comparison } from './baseline';
import type { GradedAttempt } from './grade';
import { breakdown, casePassed, caseScore, suiteMetrics, type CaseOutcome, type ScriptedAttack } from './metrics';
import { checkThresholds, type Thresholds } from './thresholds';

export interface ReportMeta {
  id: string;
  created_at: string;
  provider: string;
  model: string;
  k: number;
  duration_ms: number;
}

/** One case in the report: its verdict over the k attempts, each attempt graded, and the scripted attacks. */
export interface ReportCase {
  case: string;
  description: string;
  integration: string;
  tags: string[];
  passed: boolean;
  score: number;
  exact: boolean;
  attack?: { channel: string; tool: string };
  attempts: GradedAttempt[];
  scripted_attacks?: ScriptedAttack[];
}

/** The full report as written to `<id>.json` and uploaded to `POST /evals` (a valid `EvalReport`). */
export interface FullReport {
  format: typeof EVAL_REPORT_FORMAT;
  id: string;
  created_at: string;
  provider: string;
  model: string;
  k: number;
  duration_ms: number;
  cases: number;
  passed: number;
  metrics: EvalMetrics;
  breakdown: { integrations: ReturnType<typeof breakdown>; tags: ReturnType<typeof breakdown> };
  thresholds: { rules: Thresholds; failures: string[] };
  baseline: Comparison | null;
  results: ReportCase[];
}

/** A new report id: sortable by time, tells the provider, unique enough for a tenant's list. */
export function reportId(at: Date, provider: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const suffix = Math.random().toString(36).slice(2, 6);
  return `eval_${stamp}_${provider.replace(/[^A-Za-z0-9]+/g, '-')}_${suffix}`;
}

export function buildReport(outcomes: readonly CaseOutcome[], meta: ReportMeta, thresholds: Thresholds, baseline?: EvalReport, tolerance = 0): FullReport {
  const metrics = suiteMetrics(outcomes);
  const results = outcomes.map((o): ReportCase => ({
    case: o.case.spec.name,
    description: o.case.spec.description,
    integration: o.case.spec.integration,
    tags: o.case.spec.tags,
    passed: casePassed(o),
    score: caseScore(o),
    exact: o.attempts.every((a) => a.exact),
    ...(o.case.spec.attack && { attack: { channel: o.case.spec.attack.channel, tool: o.case.spec.attack.tool } }),
    attempts: o.attempts,
    ...(o.scripted.length > 0 && { scripted_attacks: o.scripted }),
  }));
  const report: FullReport = {
    format: EVAL_REPORT_FORMAT,
    ...meta,
    cases: outcomes.length,
    passed: results.filter((r) => r.passed).length,
    metrics,
    breakdown: {
      integrations: breakdown(outcomes, (o) => [o.case.spec.integration]),
      tags: breakdown(outcomes, (o) => o.case.spec.tags),
    },
    thresholds: { rules: thresholds, failures: checkThresholds(metrics, thresholds) },
    baseline: null,
    results,
  };
  if (baseline) report.baseline = compareWithBaseline(report, baseline, tolerance);
  // The report the runner writes is one the API accepts: checked here, not discovered at upload.
  const checked = evalReportSchema.safeParse(report);
  if (!checked.success) throw new Error(`the report does not match its own schema: ${checked.error.message}`);
  return report;
}

/** Regressions that fail the run under `--fail-on-regression` (latency and cost only warn). */
export function blockingRegressions(report: FullReport): Comparison['regressions'] {
  return report.baseline?.regressions.filter((r) => r.severity === 'error') ?? [];
}
