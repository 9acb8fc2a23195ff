import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithBaseline } from './baseline';
import { percentile } from './metrics';
import { checkThresholds, loadThresholds } from './thresholds';
import type { EvalMetrics } from '../../worker/shadow/eval-report';

const METRICS: EvalMetrics = {
  pass_at_k: 1,
  pass_rate: 0.9,
  match_score: 0.95,
  exact_plan_rate: 0.8,
  hallucination_rate: 0.1,
  policy_violations: 0,
  attack_success_rate: 0,
  attack_success_rate_scripted: 0,
  latency_p50_ms: 100,
  latency_p95_ms: 400,
  tokens: 1000,
  cost_usd: 0.01,
};

describe('percentile', () => {
  it('is the nearest rank: always an observed value', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile(Array.from({ length: 20 }, (_, i) => i + 1), 95)).toBe(19);
    expect(percentile([1, 2, 3, 100], 95)).toBe(100);
  });
});

describe('thresholds', () => {
  it('fail on a metric past its gate, naming it and both numbers', () => {
    expect(checkThresholds(METRICS, { min_match_score: 0.9, max_hallucination_rate: 0.05, max_attack_success_rate: 0 })).toEqual(['hallucination_rate 0.1 is above the maximum 0.05']);
    expect(checkThresholds(METRICS, { min_exact_plan_rate: 0.9 })).toEqual(['exact_plan_rate 0.8 is below the minimum 0.9']);
  });

  it('skip what was not measured, and refuse a gate on a metric that does not exist', () => {
    expect(checkThresholds({ ...METRICS, attack_success_rate: null }, { max_attack_success_rate: 0 })).toEqual([]);
    expect(checkThresholds(METRICS, { max_typo_rate: 0 })).toEqual(['max_typo_rate: there is no metric "typo_rate"']);
  });

  it("layer the provider's own section over `all`", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eval-thresholds-'));
    try {
      const file = path.join(dir, 't.yaml');
      writeFileSync(file, 'all: { min_match_score: 0.8, max_attack_success_rate: 0 }\nstub: { min_match_score: 1 }\n');
      expect(loadThresholds(file, 'stub')).toEqual({ min_match_score: 1, max_attack_success_rate: 0 });
      expect(loadThresholds(file, 'replay:openai')).toEqual({ min_match_score: 0.8, max_attack_success_rate: 0 });
      writeFileSync(file, 'all: { match_score: 0.8 }\n');
      expect(() => loadThresholds(file, 'stub')).toThrow(/must be min_<metric> or max_<metric>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compareWithBaseline', () => {
  const report = (metrics: Partial<EvalMetrics>, results: Array<{ case: string; passed: boolean; score: number }>) => ({
    id: 'eval_x',
    created_at: '2026-01-05T09:00:00.000Z',
    provider: 'stub',
    model: 'stub',
    metrics: { ...METRICS, ...metrics },
    results,
  });
  const base = report({}, [
    { case: 'a', passed: true, score: 1 },
    { case: 'b', passed: true, score: 0.9 },
    { case: 'gone', passed: true, score: 1 },
  ]);

  it('flags quality that got worse as a regression, and a case that stopped passing', () => {
    const now = report({ match_score: 0.9, attack_success_rate_scripted: 0.1 }, [
      { case: 'a', passed: false, score: 0.5 },
      { case: 'b', passed: true, score: 0.9 },
      { case: 'new', passed: true, score: 1 },
    ]);
    const c = compareWithBaseline(now, base);
    expect(c.regressions.map((r) => [r.kind, r.name, r.severity])).toEqual([
      ['metric', 'match_score', 'error'],
      ['metric', 'attack_success_rate_scripted', 'error'],
      ['case', 'a', 'error'],
      ['case', 'a', 'error'],
    ]);
    expect(c.new_cases).toEqual(['new']);
    expect(c.missing_cases).toEqual(['gone']);
  });

  it('only warns when latency or cost grew, and ignores noise within the tolerance', () => {
    const now = report({ latency_p95_ms: 900, match_score: 0.94 }, base.results);
    const c = compareWithBaseline(now, base, 0.02);
    expect(c.regressions).toEqual([{ kind: 'metric', name: 'latency_p95_ms', baseline: 400, current: 900, severity: 'warning', message: 'latency_p95_ms 400 → 900' }]);
  });

  it('lists improvements separately', () => {
    const now = report({ hallucination_rate: 0 }, base.results.map((r) => (r.case === 'b' ? { ...r, score: 1 } : r)));
    const c = compareWithBaseline(now, base);
    expect(c.regressions).toEqual([]);
    expect(c.improvements.map((r) => r.name)).toEqual(['hallucination_rate', 'b']);
  });
});
