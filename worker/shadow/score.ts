import { getTool } from '../tools/catalog';
import type { AlignedStep, AlignmentKind } from './align';

/**
 * The match score of an aligned plan, from 0 (nothing the person expected) to 1 (exactly it):
 *
 *     score = Σ credit(expected step) / (expected steps + Σ weight(extra step))
 *
 * - credit: `matched` 1; `changed` its argument similarity; `reordered` half its argument
 *   similarity (the right call at the wrong time can be the wrong call: a ticket before the fix,
 *   a drain before the cordon); `missed` 0.
 * - weight of an extra step: 1 when it changes something (or its tool is unknown), 0.25 when it
 *   only reads. Planners may add read-only diagnostics by design; they cost a little, never as
 *   much as an unexpected change.
 * - Nothing expected and nothing planned scores 1 (the right answer to "do nothing").
 *
 * A plan is `exact` when every row is `matched`: same calls, same order, same arguments.
 */
export const SCORING = {
  version: 'shadow-score/1',
  reorder_factor: 0.5,
  extra_weight: { mutating: 1, read_only: 0.25 },
} as const;

export type ExtraWeight = (tool: string) => number;

/** The default weight of an unexpected step: by whether its tool changes anything. */
export const catalogWeight: ExtraWeight = (tool) => (getTool(tool)?.mutating === false ? SCORING.extra_weight.read_only : SCORING.extra_weight.mutating);

export interface PlanScore {
  score: number;
  exact: boolean;
  summary: Record<AlignmentKind, number> & { expected: number; actual: number };
}

export function scoreAlignment(rows: readonly AlignedStep[], extraWeight: ExtraWeight = catalogWeight): PlanScore {
  const summary = { expected: 0, actual: 0, matched: 0, changed: 0, reordered: 0, missed: 0, extra: 0 };
  let credit = 0;
  let penalty = 0;
  for (const row of rows) {
    summary[row.kind]++;
    if (row.expected) summary.expected++;
    if (row.actual) summary.actual++;
    if (row.kind === 'matched') credit += 1;
    else if (row.kind === 'changed') credit += row.similarity;
    else if (row.kind === 'reordered') credit += SCORING.reorder_factor * row.similarity;
    else if (row.kind === 'extra') penalty += extraWeight(row.actual!.tool);
  }
  const denominator = summary.expected + penalty;
  const score = denominator === 0 ? 1 : Math.round((credit / denominator) * 10_000) / 10_000;
  return { score, exact: rows.every((r) => r.kind === 'matched'), summary };
}
