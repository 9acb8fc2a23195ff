import { celEnv, parse, plan } from '@bufbuild/cel';
import type { CelInput, CelValue, CelError as BufCelError } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { calledFunctions, freeVariables, type CelExpr } from './ast';
import { budgetFuncs, instrument } from './budget';

/** One environment for every expression: the standard library, the strings extension, and the budget. */
const env = celEnv({ funcs: [...strings, ...budgetFuncs] });

/** Calls the planner implements itself rather than through the function registry. */
const PLANNER_CALLS = new Set(['_?_:_', '_&&_', '_||_', '_[_]', '_[?_]', '_?._', '@not_strictly_false', '__not_strictly_false__']);

/** Long enough for any real condition; bounds the parser's work on hostile input. */
export const MAX_EXPRESSION_LENGTH = 4096;
const CACHE_SIZE = 1000;

export interface CompiledCel {
  expr: string;
  ast: CelExpr;
  /** Top-level variables the expression reads; evaluation checks they were given. */
  variables: readonly string[];
  run(bindings: Record<string, CelInput>): CelValue | BufCelError;
}

export type CompileResult = { ok: true; program: CompiledCel } | { ok: false; error: string };

// Policies and runbooks evaluate the same few expressions over and over; a bounded map keeps the
// parsed plans. Map iteration order is insertion order, so the first key is the least recently used.
const cache = new Map<string, CompileResult>();

/** Parses and plans an expression once; failures are cached too and come back as a message. */
export function compileCel(expr: string): CompileResult {
  const hit = cache.get(expr);
  if (hit) {
    cache.delete(expr);
    cache.set(expr, hit);
    return hit;
  }
  const result = compileUncached(expr);
  cache.set(expr, result);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return result;
}

function compileUncached(expr: string): CompileResult {
  if (expr.trim() === '') return { ok: false, error: 'expression is empty' };
  if (expr.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, error: `expression is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  }
  let ast: CelExpr;
  try {
    ast = parse(expr).expr;
  } catch (err) {
    return { ok: false, error: syntaxMessage(err) };
  }
  for (const name of calledFunctions(ast)) {
    // `has` survives parsing only when its argument is not a field selection.
    if (name === 'has') return { ok: false, error: 'has() takes a field selection, such as has(inputs.incident_id)' };
    if (!PLANNER_CALLS.has(name) && !env.funcs.find(name)) return { ok: false, error: `unknown function "${name}"` };
  }
  try {
    // Planned from an instrumented copy, so that folds draw on the evaluation budget (budget.ts).
    const evaluate = plan(env, instrument(ast));
    return { ok: true, program: { expr, ast, variables: freeVariables(ast), run: (bindings) => evaluate(bindings) } };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** `<input>:1:5: found + but …` → `syntax error at column 5: found + but …`. */
function syntaxMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const located = /^<input>:(\d+):(\d+): ([\s\S]*)$/.exec(message);
  if (!located) return `syntax error: ${message}`;
  const [, line, column, rest] = located;
  return line === '1' ? `syntax error at column ${column}: ${rest}` : `syntax error at line ${line}, column ${column}: ${rest}`;
}

/** For tests: forget cached plans. */
export function clearCelCache(): void {
  cache.clear();
}

export function celCacheSize(): number {
  return cache.size;
}
