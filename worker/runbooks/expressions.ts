import { compileCel, memberNames } from '../cel';
import { didYouMean } from '../yaml/did-you-mean';

/** What an expression at one place of a runbook may read. */
export interface ExpressionScope {
  /** Top-level variables available here, e.g. `inputs`, `steps`, `result`. */
  variables: readonly string[];
  /** Declared input names (`inputs.<name>`). */
  inputs: readonly string[];
  /** Step ids that have finished by the time the expression runs. */
  earlierSteps: readonly string[];
  /** Step ids that run later. */
  laterSteps: readonly string[];
  /** The step the expression belongs to, while its result does not exist yet (`if`, `with`). */
  currentStep?: string;
}

/** The variables of expressions in steps (DESIGN §2); `expect` adds `result`, triggers read `event`. */
export const STEP_VARIABLES = ['inputs', 'context', 'run', 'steps'] as const;
export const TRIGGER_VARIABLES = ['event', 'context'] as const;

/**
 * Problems with one expression: it must compile, read only the variables in scope, only declared
 * inputs, and only steps that have already run. Returns messages; the caller adds path and line.
 */
export function checkExpression(expr: string, scope: ExpressionScope): string[] {
  const compiled = compileCel(expr);
  if (!compiled.ok) return [`invalid expression: ${compiled.error}`];
  const { ast, variables } = compiled.program;
  const problems: string[] = [];
  for (const name of variables) {
    if (!scope.variables.includes(name)) {
      problems.push(`unknown variable "${name}"${didYouMean(name, scope.variables)}; expressions here can use ${scope.variables.join(', ')}`);
    }
  }
  if (scope.variables.includes('inputs')) {
    for (const name of memberNames(ast, 'inputs')) {
      if (!scope.inputs.includes(name)) problems.push(`references undeclared input "${name}"${didYouMean(name, scope.inputs)}`);
    }
  }
  if (scope.variables.includes('steps')) {
    for (const id of memberNames(ast, 'steps')) {
      if (scope.earlierSteps.includes(id)) continue;
      if (id === scope.currentStep) problems.push(`references its own step "${id}", whose result exists only in verify`);
      else if (scope.laterSteps.includes(id)) problems.push(`references step "${id}" which runs later`);
      else problems.push(`references unknown step "${id}"${didYouMean(id, [...scope.earlierSteps, ...scope.laterSteps])}`);
    }
  }
  return problems;
}
