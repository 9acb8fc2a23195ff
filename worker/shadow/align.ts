import { compareArgs, type ArgDifference, type CompareOptions } from './args';

/**
 * Pairs the steps an agent planned with the steps a person expected. Steps are paired by what
 * they do — the same tool, the closest arguments — never by their ids: an agent names its steps
 * as it likes, and a reference run's ids belong to another runbook version.
 */

export interface ExpectedStep {
  tool: string;
  /** What the call must be given; absent: any arguments will do. */
  args?: Record<string, unknown>;
}

export interface ActualStep {
  id: string;
  tool: string;
  /** Resolved arguments; null when the step never got them (not reached yet, or a template failed). */
  args: Record<string, unknown> | null;
  status?: string;
}

/**
 * - `matched`: the expected call, in the expected order, with the expected arguments;
 * - `changed`: the expected tool in order, with other arguments;
 * - `reordered`: the expected tool, but out of the expected order (arguments may differ too);
 * - `missed`: an expected call the agent did not plan;
 * - `extra`: a call nobody expected (hallucinated, from the expected plan's point of view).
 */
export type AlignmentKind = 'matched' | 'changed' | 'reordered' | 'missed' | 'extra';

export interface AlignedStep {
  kind: AlignmentKind;
  expected: (ExpectedStep & { index: number }) | null;
  actual: (ActualStep & { index: number }) | null;
  /** Argument similarity of a pair (0–1); 0 for `missed` and `extra`. */
  similarity: number;
  differences: ArgDifference[];
}

interface Pair {
  i: number;
  j: number;
  similarity: number;
  differences: ArgDifference[];
}

/**
 * Aligns two plans in two passes:
 * 1. In order: the pairing that keeps both plans' order and pairs the most steps, and among
 *    those the closest arguments (a weighted longest common subsequence: each pair of the same
 *    tool weighs 1 + its argument similarity).
 * 2. Out of order: what is left pairs up by tool, closest arguments first; those are `reordered`.
 * Whatever is still left is `missed` (expected) or `extra` (the agent's).
 */
export function align(expected: readonly ExpectedStep[], actual: readonly ActualStep[], opts: CompareOptions = {}): AlignedStep[] {
  const n = expected.length;
  const m = actual.length;
  const cmp: (Pair | undefined)[][] = expected.map((e, i) =>
    actual.map((a, j) => (e.tool === a.tool ? { i, j, ...compareArgs(e.args, a.args, opts) } : undefined)),
  );

  // best[i][j]: the heaviest in-order pairing of expected[i..] with actual[j..].
  const best: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const pair = cmp[i]![j];
      const take = pair ? 1 + pair.similarity + best[i + 1]![j + 1]! : -1;
      best[i]![j] = Math.max(take, best[i + 1]![j]!, best[i]![j + 1]!);
    }
  }
  const inOrder: Pair[] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    const pair = cmp[i]![j];
    if (pair && best[i]![j] === 1 + pair.similarity + best[i + 1]![j + 1]!) {
      inOrder.push(pair);
      i++;
      j++;
    } else if (best[i]![j] === best[i + 1]![j]) i++;
    else j++;
  }

  const usedE = new Set(inOrder.map((p) => p.i));
  const usedA = new Set(inOrder.map((p) => p.j));
  const candidates = cmp
    .flat()
    .filter((p): p is Pair => p !== undefined && !usedE.has(p.i) && !usedA.has(p.j))
    .sort((a, b) => b.similarity - a.similarity || a.i - b.i || a.j - b.j);
  const moved: Pair[] = [];
  for (const p of candidates) {
    if (usedE.has(p.i) || usedA.has(p.j)) continue;
    usedE.add(p.i);
    usedA.add(p.j);
    moved.push(p);
  }

  // Rows in the agent's order; a missed step sits where it was expected: before the row of the
  // next expected step that was paired in order.
  const rows: Array<{ key: number; row: AlignedStep }> = [];
  const exp = (i: number) => ({ ...expected[i]!, index: i });
  const act = (j: number) => ({ ...actual[j]!, index: j });
  for (const p of inOrder) {
    const kind = p.differences.length === 0 ? 'matched' : 'changed';
    rows.push({ key: p.j, row: { kind, expected: exp(p.i), actual: act(p.j), similarity: p.similarity, differences: p.differences } });
  }
  for (const p of moved) {
    rows.push({ key: p.j, row: { kind: 'reordered', expected: exp(p.i), actual: act(p.j), similarity: p.similarity, differences: p.differences } });
  }
  for (let j = 0; j < m; j++) {
    if (!usedA.has(j)) rows.push({ key: j, row: { kind: 'extra', expected: null, actual: act(j), similarity: 0, differences: [] } });
  }
  for (let i = 0; i < n; i++) {
    if (usedE.has(i)) continue;
    const next = inOrder.find((p) => p.i > i);
    rows.push({ key: (next ? next.j : m) - 0.5 + i / (n + 1) / 2, row: { kind: 'missed', expected: exp(i), actual: null, similarity: 0, differences: [] } });
  }
  return rows.sort((a, b) => a.key - b.key).map((r) => r.row);
}
