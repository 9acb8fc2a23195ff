import { templateSites } from '../cel';
import { getTool, toolIds } from '../tools/catalog';
import { didYouMean } from '../yaml/did-you-mean';
import { formatPath, type SourcePath } from '../yaml/path';
import type { ParsedYaml } from '../yaml/parse';
import { checkExpression, STEP_VARIABLES, TRIGGER_VARIABLES, type ExpressionScope } from './expressions';
import { checkInputValue } from './inputs';
import type { RunbookDocument, StepDocument } from './schema';
import { checkToolArgs, defaultVerifyArgs, missingArguments } from './tool-args';
import type { SourceError } from './types';

type Source = Pick<ParsedYaml, 'value' | 'lineOf'>;

/**
 * The checks a schema cannot express: tools exist and accept the arguments, step ids are unique,
 * expressions compile and read only declared inputs and earlier steps. Everything is reported at
 * once, each problem with the path and line to edit.
 */
export function checkRunbook(doc: RunbookDocument, source: Source): SourceError[] {
  const errors: SourceError[] = [];
  const report = (path: SourcePath, message: string): void => {
    errors.push({ path: formatPath(path), line: source.lineOf(path), message });
  };
  const inputs = Object.keys(doc.spec.inputs);

  for (const [name, def] of Object.entries(doc.spec.inputs)) {
    def.enum?.forEach((value, i) => {
      const problem = checkInputValue({ type: def.type }, value);
      if (problem) report(['spec', 'inputs', name, 'enum', i], `enum value ${problem}`);
    });
    if (def.default !== undefined) {
      const problem = checkInputValue(def, def.default);
      if (problem) report(['spec', 'inputs', name, 'default'], `default ${problem}`);
    }
  }

  const triggerScope: ExpressionScope = { variables: TRIGGER_VARIABLES, inputs, earlierSteps: [], laterSteps: [] };
  doc.spec.triggers.forEach((trigger, i) => {
    const at: SourcePath = ['spec', 'triggers', i];
    for (const problem of checkExpression(trigger.when, triggerScope)) report([...at, 'when'], problem);
    for (const [name, expr] of Object.entries(trigger.inputs)) {
      if (!inputs.includes(name)) report([...at, 'inputs', name], `unknown input "${name}"${didYouMean(name, inputs)}`);
      for (const problem of checkExpression(expr, triggerScope)) report([...at, 'inputs', name], problem);
    }
  });

  const ids = doc.spec.steps.map((step) => step.id);
  doc.spec.steps.forEach((step, i) => {
    const at: SourcePath = ['spec', 'steps', i];
    const first = ids.indexOf(step.id);
    if (first !== i) report([...at, 'id'], `duplicate step id "${step.id}" (first used by spec.steps[${first}])`);
    const before = ids.slice(0, i);
    const scope: ExpressionScope = { variables: STEP_VARIABLES, inputs, earlierSteps: before, laterSteps: ids.slice(i + 1), currentStep: step.id };
    // The verification runs after the step itself, so it may read the step's result.
    const verifyScope: ExpressionScope = { ...scope, earlierSteps: ids.slice(0, i + 1), currentStep: undefined };
    checkStep(step, at, scope, verifyScope, source, report, errors);
  });
  return errors;
}

function checkStep(
  step: StepDocument,
  at: SourcePath,
  scope: ExpressionScope,
  verifyScope: ExpressionScope,
  source: Source,
  report: (path: SourcePath, message: string) => void,
  errors: SourceError[],
): void {
  const tool = getTool(step.tool);
  if (!tool) report([...at, 'tool'], `unknown tool "${step.tool}"${didYouMean(step.tool, toolIds())}`);
  if (step.if !== undefined) for (const problem of checkExpression(step.if, scope)) report([...at, 'if'], problem);
  checkTemplates(step.with, [...at, 'with'], scope, report);
  if (tool) errors.push(...checkToolArgs(tool, step.with, [...at, 'with'], source));

  const verify = step.verify;
  if (!verify) return;
  const verifyTool = getTool(verify.tool);
  if (!verifyTool) report([...at, 'verify', 'tool'], `unknown tool "${verify.tool}"${didYouMean(verify.tool, toolIds())}`);
  else if (verifyTool.mutating) report([...at, 'verify', 'tool'], `${verifyTool.id} changes state; a verification must use a read-only tool`);
  if (verify.with) checkTemplates(verify.with, [...at, 'verify', 'with'], verifyScope, report);
  const expectScope = { ...verifyScope, variables: [...verifyScope.variables, 'result'] };
  for (const problem of checkExpression(verify.expect, expectScope)) report([...at, 'verify', 'expect'], problem);
  if (!verifyTool) return;
  if (verify.with) {
    errors.push(...checkToolArgs(verifyTool, verify.with, [...at, 'verify', 'with'], source));
  } else {
    // Without `with` the verification borrows the step's arguments (already checked above);
    // it only needs to say when they do not cover what the verify tool requires.
    const borrowed = Object.keys(defaultVerifyArgs(verifyTool, step.with));
    for (const name of missingArguments(verifyTool, borrowed)) {
      report([...at, 'verify'], `${verifyTool.id} needs argument "${name}", which the step does not pass; set verify.with`);
    }
  }
}

function checkTemplates(
  value: Record<string, unknown>,
  at: SourcePath,
  scope: ExpressionScope,
  report: (path: SourcePath, message: string) => void,
): void {
  for (const site of templateSites(value)) {
    const path = [...at, ...site.path];
    if (site.error !== undefined) report(path, `invalid template: ${site.error}`);
    else for (const problem of checkExpression(site.expr, scope)) report(path, problem);
  }
}
