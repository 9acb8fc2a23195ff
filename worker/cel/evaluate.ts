import { isCelError, unparse } from '@bufbuild/cel';
import type { CelInput, CelError as BufCelError } from '@bufbuild/cel';
import { findNode } from './ast';
import { EVAL_BUDGET, withBudget } from './budget';
import { compileCel, type CompiledCel } from './compile';
import { CelError } from './error';
import { fromCelValue, toCelInput } from './values';

/**
 * Variables an expression can read, as plain JSON values: `inputs`, `context`, `run`, `steps`,
 * `result`, `event`, `tool`, `args`, `actor` … A member set to `undefined` counts as absent.
 */
export type CelVars = Record<string, unknown>;

/** Compiles (cached) or throws a `CelError` naming the problem. */
export function compileOrThrow(expr: string): CompiledCel {
  const compiled = compileCel(expr);
  if (!compiled.ok) throw new CelError(compiled.error, expr);
  return compiled.program;
}

/**
 * Evaluates an expression and returns its value as plain JSON. Every failure — syntax, a missing
 * key, a type mismatch, an unknown variable — is thrown as a `CelError`, never as anything else.
 */
export function evalCel(expr: string, vars: CelVars): unknown {
  const program = compileOrThrow(expr);
  const bindings: Record<string, CelInput> = {};
  for (const name of program.variables) {
    const value = vars[name];
    if (value === undefined) throw new CelError(`unknown variable "${name}"`, expr);
    try {
      bindings[name] = toCelInput(value);
    } catch (err) {
      throw new CelError(`variable "${name}": ${err instanceof Error ? err.message : String(err)}`, expr);
    }
  }
  let result: ReturnType<CompiledCel['run']>;
  try {
    const run = withBudget(() => program.run(bindings));
    if (run.exceeded) throw new CelError(`expression is too costly: it needs more than ${EVAL_BUDGET} evaluation steps (macros nested over long lists)`, expr);
    result = run.value;
  } catch (err) {
    if (err instanceof CelError) throw err;
    // The evaluator is meant to return errors rather than throw them; this keeps the promise anyway.
    throw new CelError(err instanceof Error ? err.message : String(err), expr);
  }
  if (isCelError(result)) throw new CelError(describe(result, program), expr);
  try {
    return fromCelValue(result);
  } catch (err) {
    throw new CelError(err instanceof Error ? err.message : String(err), expr);
  }
}

/** Evaluates a condition (`if`, `when`, `expect`); anything but a bool is an error, not "truthy". */
export function evalCondition(expr: string, vars: CelVars): boolean {
  const value = evalCel(expr, vars);
  if (typeof value !== 'boolean') {
    throw new CelError(`condition must evaluate to true or false, got ${describeValue(value)}`, expr);
  }
  return value;
}

/** Rewrites the evaluator's terse messages and names the sub-expression that failed. */
function describe(error: BufCelError, program: CompiledCel): string {
  const missing = /^field not found: (.*)$/.exec(error.message);
  const detail = missing ? `no such key "${missing[1]}"` : error.message;
  const node = error.exprId === undefined ? undefined : findNode(program.ast, error.exprId);
  if (!node) return detail;
  let where: string;
  try {
    where = unparse(node);
  } catch {
    return detail;
  }
  return where === program.expr.trim() ? detail : `${detail} at \`${where}\``;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}
