import { CelScalar, celFunc, celList, isCelList } from '@bufbuild/cel';
import type { CelList, CelValue } from '@bufbuild/cel';
import type { CelExpr } from './ast';

// CEL has no loops but its macros (`all`, `exists`, `map`, `filter`, `exists_one`) are folds, and
// folds nest: five nested folds over a 30-element list are 24 million iterations from a
// 300-character expression, evaluated inside a webhook request. The library (@bufbuild/cel 0.6)
// has no cost limit of its own, so every fold is instrumented before it is planned: its loop
// condition draws on a per-evaluation budget and turns false when the budget is spent, which
// stops every fold in progress; the evaluation then fails with a clear error.

/** Units one evaluation may spend: one per fold iteration (about 0.1–0.5 s of the slowest work). */
export const EVAL_BUDGET = 200_000;

/**
 * A fold that builds a list (`map`, `filter`) appends one element per step, and the library
 * appends by wrapping the previous list in a concatenation: after n steps, reading the list walks
 * n levels per element (quadratic, and deep enough to overflow the stack). The instrumented step
 * appends to a flat array instead. That array is the fold's own: its accumulator is a variable no
 * expression can name, so the previous list is never read again once the step has returned.
 */
const owned = new WeakMap<CelList, CelValue[]>();

// The names start with '@', which the parser never produces from source text: only the
// instrumentation can call them.
const COND = '@arb_budget_cond';
const STEP = '@arb_budget_step';

let remaining = Number.POSITIVE_INFINITY;
let exceeded = false;

function spend(units: number): boolean {
  remaining -= units;
  if (remaining < 0) exceeded = true;
  return !exceeded;
}

/** The functions the instrumented folds call; add them to the evaluation environment. */
export const budgetFuncs = [
  celFunc(COND, [CelScalar.DYN], CelScalar.DYN, (cond) => (spend(1) ? cond : false)),
  celFunc(STEP, [CelScalar.DYN, CelScalar.DYN], CelScalar.DYN, (next, previous) => {
    if (!isCelList(next) || !isCelList(previous) || next === previous || next.size < previous.size) return next;
    let array = owned.get(previous);
    if (array === undefined || array.length !== previous.size) {
      array = Array.from(previous);
      if (!spend(array.length)) return next;
    }
    const added: CelValue[] = [];
    for (let i = previous.size; i < next.size; i++) added.push(next.get(i)!);
    array.push(...added);
    const flat = celList(array);
    owned.set(flat, array);
    return flat;
  }),
];

/** Runs one evaluation under a fresh budget; says whether it ran out. */
export function withBudget<T>(run: () => T, budget = EVAL_BUDGET): { value: T; exceeded: boolean } {
  // Evaluation is synchronous, so one module-level budget serves every evaluation in turn.
  const outer = { remaining, exceeded };
  remaining = budget;
  exceeded = false;
  try {
    const value = run();
    return { value, exceeded };
  } finally {
    remaining = outer.remaining;
    exceeded = outer.exceeded;
  }
}

type Call = Extract<CelExpr['exprKind'], { case: 'callExpr' }>['value'];

/** `fn(args…)` as a node with the id of the node it wraps, so errors still point at the source. */
function call(like: CelExpr, fn: string, args: CelExpr[]): CelExpr {
  const value = { $typeName: 'cel.expr.Expr.Call', function: fn, args } as unknown as Call;
  return { ...like, exprKind: { case: 'callExpr', value } } as CelExpr;
}

function ident(like: CelExpr, name: string): CelExpr {
  return { ...like, exprKind: { case: 'identExpr', value: { $typeName: 'cel.expr.Expr.Ident', name } } } as unknown as CelExpr;
}

/** A copy of the tree in which every fold draws on the budget (the original stays for messages). */
export function instrument(expr: CelExpr): CelExpr {
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      return { ...expr, exprKind: { ...kind, value: { ...kind.value, operand: kind.value.operand && instrument(kind.value.operand) } } } as CelExpr;
    case 'callExpr':
      return { ...expr, exprKind: { ...kind, value: { ...kind.value, target: kind.value.target && instrument(kind.value.target), args: kind.value.args.map(instrument) } } } as CelExpr;
    case 'listExpr':
      return { ...expr, exprKind: { ...kind, value: { ...kind.value, elements: kind.value.elements.map(instrument) } } } as CelExpr;
    case 'structExpr':
      return {
        ...expr,
        exprKind: {
          ...kind,
          value: {
            ...kind.value,
            entries: kind.value.entries.map((e) => ({
              ...e,
              keyKind: e.keyKind.case === 'mapKey' ? { ...e.keyKind, value: instrument(e.keyKind.value) } : e.keyKind,
              value: e.value && instrument(e.value),
            })),
          },
        },
      } as CelExpr;
    case 'comprehensionExpr': {
      const c = kind.value;
      const cond = c.loopCondition && instrument(c.loopCondition);
      const step = c.loopStep && instrument(c.loopStep);
      return {
        ...expr,
        exprKind: {
          ...kind,
          value: {
            ...c,
            iterRange: c.iterRange && instrument(c.iterRange),
            accuInit: c.accuInit && instrument(c.accuInit),
            loopCondition: cond && call(cond, COND, [cond]),
            loopStep: step && call(step, STEP, [step, ident(step, c.accuVar)]),
            result: c.result && instrument(c.result),
          },
        },
      } as CelExpr;
    }
    default:
      return expr;
  }
}
