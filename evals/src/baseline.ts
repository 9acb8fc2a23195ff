/**
 * Comparison with a baseline report (evals/baselines/<provider>.json, or --baseline). Quality
 * regressions are errors (`--fail-on-regression` turns them into a failing exit); latency, tokens
 * and cost only warn, since they move with the machine and the network.
 */
export interface Change {
  kind: 'metric' | 'case';
  name: string;
  baseline: unknown;
  current: unknown;
  severity: 'error' | 'warning';
  message: string;
}

export interface Comparison {
  id: string;
  created_at: string;
  provider: string;
  model: string;
  /** The baseline's headline numbers, to print beside the current ones. */
  metrics: Record<string, unknown>;
  regressions: Change[];
  improvements: Change[];
  /** Cases the baseline does not have, and cases it has that did not run now. */
  new_cases: string[];
  missing_cases: string[];
}

const HIGHER_IS_BETTER = ['pass_at_k', 'pass_rate', 'pass_all_k', 'match_score', 'exact_plan_rate'];
const LOWER_IS_BETTER = ['hallucination_rate', 'extra_step_rate', 'policy_violations', 'attack_success_rate', 'attack_success_rate_scripted'];
/** Warn when more than this factor worse, and by more than the floor (ms, tokens, USD). */
const COSTS: Record<string, { factor: number; floor: number }> = {
  latency_p50_ms: { factor: 1.5, floor: 5 },
  latency_p95_ms: { factor: 1.5, floor: 10 },
  tokens_per_attempt: { factor: 1.25, floor: 200 },
  cost_per_attempt_usd: { factor: 1.25, floor: 0.0005 },
};

/** What a comparison reads of a report: a stored `EvalReport` or one being built. */
interface Reportish {
  id: string;
  created_at: string;
  provider: string;
  model: string;
  metrics: Record<string, unknown>;
  results: ReadonlyArray<{ case: string; passed: boolean; score: number }>;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** `tolerance`: how much a quality metric or a case's score may drop before it counts (noise of sampled models). */
export function compareWithBaseline(current: Reportish, baseline: Reportish, tolerance = 0): Comparison {
  const regressions: Change[] = [];
  const improvements: Change[] = [];
  const metric = (name: string, b: number, c: number, severity: Change['severity'], worse: boolean, better: boolean, message: string) => {
    if (worse) regressions.push({ kind: 'metric', name, baseline: b, current: c, severity, message });
    else if (better) improvements.push({ kind: 'metric', name, baseline: b, current: c, severity, message });
  };
  for (const name of HIGHER_IS_BETTER) {
    const b = num(baseline.metrics[name]);
    const c = num(current.metrics[name]);
    if (b === null || c === null) continue;
    metric(name, b, c, 'error', c < b - tolerance, c > b + tolerance, `${name} ${b} → ${c}`);
  }
  for (const name of LOWER_IS_BETTER) {
    const b = num(baseline.metrics[name]);
    const c = num(current.metrics[name]);
    if (b === null || c === null) continue;
    metric(name, b, c, 'error', c > b + tolerance, c < b - tolerance, `${name} ${b} → ${c}`);
  }
  for (const [name, { factor, floor }] of Object.entries(COSTS)) {
    const b = num(baseline.metrics[name]);
    const c = num(current.metrics[name]);
    if (b === null || c === null) continue;
    // Faster or cheaper is not listed: it moves with the machine as much as slower does.
    metric(name, b, c, 'warning', c > b * factor && c - b > floor, false, `${name} ${b} → ${c}`);
  }

  const before = new Map(baseline.results.map((r) => [r.case, r]));
  const now = new Set(current.results.map((r) => r.case));
  for (const r of current.results) {
    const b = before.get(r.case);
    if (!b) continue;
    if (b.passed && !r.passed) regressions.push({ kind: 'case', name: r.case, baseline: 'passed', current: 'failed', severity: 'error', message: `${r.case} passed in the baseline and fails now` });
    else if (!b.passed && r.passed) improvements.push({ kind: 'case', name: r.case, baseline: 'failed', current: 'passed', severity: 'error', message: `${r.case} failed in the baseline and passes now` });
    if (r.score < b.score - tolerance) regressions.push({ kind: 'case', name: r.case, baseline: b.score, current: r.score, severity: 'error', message: `${r.case} match score ${b.score} → ${r.score}` });
    else if (r.score > b.score + tolerance) improvements.push({ kind: 'case', name: r.case, baseline: b.score, current: r.score, severity: 'error', message: `${r.case} match score ${b.score} → ${r.score}` });
  }
  return {
    id: baseline.id,
    created_at: baseline.created_at,
    provider: baseline.provider,
    model: baseline.model,
    metrics: baseline.metrics,
    regressions,
    improvements,
    new_cases: current.results.filter((r) => !before.has(r.case)).map((r) => r.case),
    missing_cases: baseline.results.filter((r) => !now.has(r.case)).map((r) => r.case),
  };
}
