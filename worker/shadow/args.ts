import { canonicalJson } from '../lib/crypto';

/**
 * How far an agent's arguments are from the expected ones. Two uses: choosing which steps to pair
 * (the closest arguments win) and scoring a pair (a partly right call earns partial credit). The
 * per-field differences are what a reviewer reads, so they name the exact path that differs.
 */

export type ArgDifferenceKind = 'changed' | 'missing' | 'added';

export interface ArgDifference {
  /** `namespace`, `labels`, `spec.replicas`: where the values differ. */
  path: string;
  kind: ArgDifferenceKind;
  expected?: unknown;
  actual?: unknown;
}

export interface ArgComparison {
  /** 1 when every compared field is equal, 0 when none is; the mean of the fields' similarities. */
  similarity: number;
  differences: ArgDifference[];
}

export interface CompareOptions {
  /**
   * Compare every field of both sides. Off (the default), only the fields the expected step names
   * are compared: a person writing an expected plan states what matters (`node: node-7`) and
   * leaves out what does not (a ticket's wording). A reference run names every field, so fields
   * only the agent set are differences too.
   */
  strict?: boolean;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean));
}

/** Two different strings: the share of words they have in common, at most 0.8 (never as good as equal). */
function stringSimilarity(a: string, b: string): number {
  if (a.trim().toLowerCase() === b.trim().toLowerCase()) return 0.9;
  const wa = words(a);
  const wb = words(b);
  if (wa.size === 0 && wb.size === 0) return 0;
  let common = 0;
  for (const w of wa) if (wb.has(w)) common++;
  return (0.8 * common) / (wa.size + wb.size - common);
}

/** Two different numbers: 1 minus their relative distance (5 replicas for 6 scores 0.83; 0 for 6 scores 0). */
function numberSimilarity(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 1 : Math.max(0, 1 - Math.abs(a - b) / scale);
}

/** Two different arrays: the overlap of their elements as multisets (order ignored: labels, lists). */
function arraySimilarity(a: unknown[], b: unknown[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const left = a.map((v) => canonicalJson(v));
  const right = b.map((v) => canonicalJson(v));
  let common = 0;
  for (const item of left) {
    const at = right.indexOf(item);
    if (at >= 0) {
      common++;
      right.splice(at, 1);
    }
  }
  return common / (a.length + b.length - common);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function compareValue(expected: unknown, actual: unknown, path: string, opts: CompareOptions, out: ArgDifference[]): number {
  if (same(expected, actual)) return 1;
  if (isObject(expected) && isObject(actual)) return compareObject(expected, actual, path, opts, out);
  let similarity = 0;
  if (typeof expected === 'string' && typeof actual === 'string') similarity = stringSimilarity(expected, actual);
  else if (typeof expected === 'number' && typeof actual === 'number') similarity = numberSimilarity(expected, actual);
  else if (Array.isArray(expected) && Array.isArray(actual)) {
    similarity = arraySimilarity(expected, actual);
    if (similarity === 1) return 1; // the same elements in another order: labels, lists
  }
  // `3` for "3": the right value in the wrong type (a template that kept a string).
  else if ((typeof expected === 'number' || typeof expected === 'string') && (typeof actual === 'number' || typeof actual === 'string') && String(expected) === String(actual)) similarity = 0.9;
  out.push({ path: path || '(args)', kind: 'changed', expected, actual });
  return similarity;
}

function compareObject(expected: Obj, actual: Obj, path: string, opts: CompareOptions, out: ArgDifference[]): number {
  const keys = new Set(Object.keys(expected).filter((k) => expected[k] !== undefined));
  if (opts.strict) for (const k of Object.keys(actual)) if (actual[k] !== undefined) keys.add(k);
  if (keys.size === 0) return 1;
  let total = 0;
  for (const key of [...keys].sort()) {
    const where = join(path, key);
    if (!(key in expected) || expected[key] === undefined) {
      out.push({ path: where, kind: 'added', actual: actual[key] });
    } else if (!(key in actual) || actual[key] === undefined) {
      out.push({ path: where, kind: 'missing', expected: expected[key] });
    } else {
      total += compareValue(expected[key], actual[key], where, opts, out);
    }
  }
  return total / keys.size;
}

/**
 * Compares an agent's arguments with the expected ones. An expected step without arguments
 * accepts any; an agent step without arguments (it never got that far) is compared as `{}`.
 */
export function compareArgs(expected: Obj | undefined, actual: Obj | null | undefined, opts: CompareOptions = {}): ArgComparison {
  if (expected === undefined) return { similarity: 1, differences: [] };
  const differences: ArgDifference[] = [];
  const similarity = compareObject(expected, actual ?? {}, '', opts, differences);
  return { similarity: Math.round(similarity * 10_000) / 10_000, differences };
}
