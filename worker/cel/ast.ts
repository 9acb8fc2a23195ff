import type { parse } from '@bufbuild/cel';

/** The CEL syntax tree, taken from `parse` so we need not import the generated proto types. */
export type CelExpr = ReturnType<typeof parse>['expr'];

/** Names that are CEL types, usable as values (`type(x) == int`); never runbook variables. */
const TYPE_NAMES = new Set(['bool', 'bytes', 'double', 'dyn', 'int', 'list', 'map', 'null_type', 'string', 'type', 'uint']);

type Visitor = (expr: CelExpr, bound: ReadonlySet<string>) => void;

/** Visits every node with the comprehension variables in scope at that node. */
function walk(expr: CelExpr | undefined, bound: ReadonlySet<string>, visit: Visitor): void {
  if (!expr) return;
  visit(expr, bound);
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      walk(kind.value.operand, bound, visit);
      break;
    case 'callExpr':
      walk(kind.value.target, bound, visit);
      for (const arg of kind.value.args) walk(arg, bound, visit);
      break;
    case 'listExpr':
      for (const element of kind.value.elements) walk(element, bound, visit);
      break;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, bound, visit);
        walk(entry.value, bound, visit);
      }
      break;
    case 'comprehensionExpr': {
      const c = kind.value;
      // The range and initial value are evaluated outside the loop; the rest sees its variables.
      walk(c.iterRange, bound, visit);
      walk(c.accuInit, bound, visit);
      const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter((v) => v !== ''));
      walk(c.loopCondition, inner, visit);
      walk(c.loopStep, inner, visit);
      walk(c.result, inner, visit);
      break;
    }
  }
}

/** Top-level variables the expression reads (`inputs`, `steps` …), excluding loop variables. */
export function freeVariables(expr: CelExpr): string[] {
  const names = new Set<string>();
  walk(expr, new Set(), (node, bound) => {
    if (node.exprKind.case === 'identExpr') {
      const name = node.exprKind.value.name;
      if (!bound.has(name) && !TYPE_NAMES.has(name)) names.add(name);
    }
  });
  return [...names];
}

/**
 * Members read from a top-level variable: `memberNames(ast, 'steps')` on
 * `steps.drain.result.evicted > 0 && steps["tidy-up"].result.ok` gives `drain`, `tidy-up`.
 * Only constant names can be known; `steps[x]` with a computed key is not reported.
 */
export function memberNames(expr: CelExpr, variable: string): string[] {
  const names = new Set<string>();
  const isRoot = (node: CelExpr | undefined, bound: ReadonlySet<string>): boolean =>
    node?.exprKind.case === 'identExpr' && node.exprKind.value.name === variable && !bound.has(variable);
  walk(expr, new Set(), (node, bound) => {
    const kind = node.exprKind;
    if (kind.case === 'selectExpr' && isRoot(kind.value.operand, bound)) names.add(kind.value.field);
    if (kind.case === 'callExpr' && kind.value.function === '_[_]' && isRoot(kind.value.args[0], bound)) {
      const key = kind.value.args[1]?.exprKind;
      if (key?.case === 'constExpr' && key.value.constantKind.case === 'stringValue') names.add(key.value.constantKind.value);
    }
  });
  return [...names];
}

/** Finds the node with a given id (errors carry the id of the node that failed). */
export function findNode(expr: CelExpr, id: bigint): CelExpr | undefined {
  let found: CelExpr | undefined;
  walk(expr, new Set(), (node) => {
    if (node.id === id) found ??= node;
  });
  return found;
}

/** Function names called in the expression (`has` left over means the macro could not expand). */
export function calledFunctions(expr: CelExpr): string[] {
  const names = new Set<string>();
  walk(expr, new Set(), (node) => {
    if (node.exprKind.case === 'callExpr') names.add(node.exprKind.value.function);
  });
  return [...names];
}
