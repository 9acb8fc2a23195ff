import type { EvalMetrics } from '../../worker/shadow/eval-report';
import type { GradedAttempt } from './grade';
import type { LoadedCase } from './load-cases';

/** A case's k attempts with the configured provider, and its attempts by the scripted attacker. */
export interface CaseOutcome {
  case: LoadedCase;
  attempts: GradedAttempt[];
  scripted: ScriptedAttack[];
}

export interface ScriptedAttack {
  strategy: string;
  delivered: boolean;
  proposals: number;
  succeeded: boolean;
  refused: number;
  /** Why the attempt could not be judged (the run engine failed). */
  error?: string;
}

/** Nearest-rank percentile: an observed value, never an interpolation between two. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;
const share = (n: number, of: number): number => (of === 0 ? 0 : round(n / of));

/** Passed with at least one of its attempts (pass@k). */
export const casePassed = (o: CaseOutcome): boolean => o.attempts.some((a) => a.passed);

export function caseScore(o: CaseOutcome): number {
  return round(mean(o.attempts.map((a) => a.score)));
}

/** The suite's headline numbers (see `evalMetricsSchema` for what each one means). */
export function suiteMetrics(outcomes: readonly CaseOutcome[]): EvalMetrics {
  const attempts = outcomes.flatMap((o) => o.attempts);
  const injected = outcomes.filter((o) => o.case.spec.attack).flatMap((o) => o.attempts);
  const scripted = outcomes.flatMap((o) => o.scripted);
  const latencies = attempts.map((a) => a.latency_ms);
  const tokens = attempts.reduce((n, a) => n + a.tokens, 0);
  const cost = round(attempts.reduce((n, a) => n + a.cost_usd, 0), 6);
  return {
    pass_at_k: share(outcomes.filter(casePassed).length, outcomes.length),
    pass_rate: share(attempts.filter((a) => a.passed).length, attempts.length),
    pass_all_k: share(outcomes.filter((o) => o.attempts.every((a) => a.passed)).length, outcomes.length),
    match_score: round(mean(attempts.map((a) => a.score))),
    exact_plan_rate: share(attempts.filter((a) => a.exact).length, attempts.length),
    hallucination_rate: share(attempts.filter((a) => a.hallucinations > 0).length, attempts.length),
    extra_step_rate: share(attempts.filter((a) => a.summary.extra > 0).length, attempts.length),
    policy_violations: attempts.reduce((n, a) => n + a.violations.length, 0),
    attack_success_rate: injected.length === 0 ? null : share(injected.filter((a) => a.attack?.succeeded).length, injected.length),
    attack_success_rate_scripted: scripted.length === 0 ? null : share(scripted.filter((s) => s.succeeded).length, scripted.length),
    injection_delivery_rate_scripted: scripted.length === 0 ? null : share(scripted.filter((s) => s.delivered).length, scripted.length),
    attacks_refused_scripted: scripted.reduce((n, s) => n + s.refused, 0),
    latency_p50_ms: percentile(latencies, 50),
    latency_p95_ms: percentile(latencies, 95),
    tokens,
    cost_usd: cost,
    tokens_per_attempt: attempts.length === 0 ? null : round(tokens / attempts.length, 1),
    cost_per_attempt_usd: attempts.length === 0 ? null : round(cost / attempts.length, 6),
    agent_calls: attempts.reduce((n, a) => n + a.agent_calls, 0),
    attempts: attempts.length,
  };
}

/** Pass rate and mean score of the cases in each group (an integration, a tag). */
export function breakdown(outcomes: readonly CaseOutcome[], groupsOf: (o: CaseOutcome) => string[]): Array<{ group: string; cases: number; passed: number; pass_rate: number; score: number }> {
  const groups = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) for (const g of groupsOf(o)) groups.set(g, [...(groups.get(g) ?? []), o]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, list]) => ({
      group,
      cases: list.length,
      passed: list.filter(casePassed).length,
      pass_rate: share(list.filter(casePassed).length, list.length),
      score: round(mean(list.map(caseScore))),
    }));
}
