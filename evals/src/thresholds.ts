import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { EvalMetrics } from '../../worker/shadow/eval-report';

/**
 * Suite-level gates (evals/thresholds.yaml): `min_<metric>` and `max_<metric>`. The `all` section
 * applies to every provider; a provider's own section (`stub`, `openai`, `anthropic`, `replay`)
 * overrides it, key by key. A metric that was not measured (null: no injection case ran) is not
 * gated.
 */
const RULE = /^(min|max)_([a-z0-9_]+)$/;
const fileSchema = z.record(z.string(), z.record(z.string(), z.number()));

export type Thresholds = Record<string, number>;

export function loadThresholds(file: string, providerLabel: string): Thresholds {
  const parsed = fileSchema.safeParse(parse(readFileSync(file, 'utf8')) ?? {});
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  for (const [section, rules] of Object.entries(parsed.data)) {
    for (const rule of Object.keys(rules)) if (!RULE.test(rule)) throw new Error(`${file}: ${section}.${rule}: must be min_<metric> or max_<metric>`);
  }
  const section = providerLabel.split(':')[0]!;
  return { ...parsed.data.all, ...parsed.data[section] };
}

/** One line per failed gate, e.g. `match_score 0.91 is below the minimum 0.95`. */
export function checkThresholds(metrics: EvalMetrics, thresholds: Thresholds): string[] {
  const failures: string[] = [];
  for (const [rule, limit] of Object.entries(thresholds)) {
    const [, kind, metric] = RULE.exec(rule)!;
    if (!(metric! in metrics)) {
      failures.push(`${rule}: there is no metric "${metric}"`);
      continue;
    }
    const value = metrics[metric!];
    if (value === null || value === undefined) continue;
    if (kind === 'min' && value < limit) failures.push(`${metric} ${value} is below the minimum ${limit}`);
    if (kind === 'max' && value > limit) failures.push(`${metric} ${value} is above the maximum ${limit}`);
  }
  return failures;
}
