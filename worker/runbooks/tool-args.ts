import type { z } from 'zod';
import { CelError, hasTemplate, resolveTemplates, type CelVars } from '../cel';
import { getTool } from '../tools/catalog';
import type { ToolDef } from '../tools/types';
import { didYouMean } from '../yaml/did-you-mean';
import { formatPath, toSourcePath, type SourcePath } from '../yaml/path';
import { knownKeysAt } from '../yaml/schema-walk';
import { issuesToSourceErrors } from '../yaml/validate';
import type { ParsedYaml } from '../yaml/parse';
import type { RunbookStep, SourceError } from './types';

type Args = Record<string, unknown>;
type Source = Pick<ParsedYaml, 'value' | 'lineOf'>;

/** The argument names a tool accepts; empty when its schema is not a plain object. */
export function argumentNames(tool: ToolDef): string[] {
  return knownKeysAt(tool.args, []);
}

/**
 * Save-time check of `with` against the tool's schema. Literal values are validated fully. A
 * value containing `${{ }}` is only known at run time, so it is accepted whatever its type, but
 * argument names are still checked and required arguments must be present.
 */
export function checkToolArgs(tool: ToolDef, given: Args, at: SourcePath, source: Source): SourceError[] {
  const errors: SourceError[] = [];
  const names = argumentNames(tool);
  const templated = new Set(Object.keys(given).filter((key) => hasTemplate(given[key])));
  if (names.length > 0) {
    for (const key of Object.keys(given)) {
      if (!names.includes(key)) {
        const path = [...at, key];
        errors.push({ path: formatPath(path), line: source.lineOf(path), message: `unknown argument "${key}" for ${tool.id}${didYouMean(key, names)}` });
      }
    }
  }
  const literal = Object.fromEntries(Object.entries(given).filter(([key]) => !templated.has(key) && (names.length === 0 || names.includes(key))));
  const result = tool.args.safeParse(literal);
  if (result.success) return errors;
  const remaining: z.core.$ZodIssue[] = [];
  for (const issue of result.error.issues) {
    const key = issue.path[0];
    if (issue.code === 'unrecognized_keys') continue; // reported above, with suggestions
    if (typeof key === 'string' && templated.has(key)) continue;
    // An object-level refinement cannot be judged while some values are still templates.
    if (key === undefined && templated.size > 0) continue;
    if (issue.code === 'invalid_type' && issue.path.length === 1 && typeof key === 'string' && !(key in literal)) {
      const path = [...at, key];
      errors.push({ path: formatPath(path), line: source.lineOf(path), message: `missing required argument "${key}" for ${tool.id}` });
      continue;
    }
    remaining.push(issue);
  }
  return [...errors, ...issuesToSourceErrors(remaining, source, tool.args, at)];
}

/** Required arguments of a tool that are not among `present` (checked on an empty call). */
export function missingArguments(tool: ToolDef, present: readonly string[]): string[] {
  const result = tool.args.safeParse({});
  if (result.success) return [];
  return result.error.issues
    .filter((issue) => issue.code === 'invalid_type' && issue.path.length === 1)
    .map((issue) => String(issue.path[0]))
    .filter((name) => !present.includes(name));
}

/**
 * Arguments of a verification that gives no `with`: the step's own arguments that the verify
 * tool accepts (`k8s.drain_node`'s cluster and node for `k8s.get_node`).
 */
export function defaultVerifyArgs(verifyTool: ToolDef, stepArgs: Args): Args {
  const names = argumentNames(verifyTool);
  if (names.length === 0) return { ...stepArgs };
  return Object.fromEntries(Object.entries(stepArgs).filter(([key]) => names.includes(key)));
}

export type ArgsResult = { ok: true; args: Args } | { ok: false; error: string };

/** Run time: resolves the step's templates, then validates against the tool (defaults applied). */
export function resolveStepArgs(step: Pick<RunbookStep, 'tool' | 'with'>, vars: CelVars): ArgsResult {
  const tool = getTool(step.tool);
  if (!tool) return { ok: false, error: `unknown tool "${step.tool}"` };
  return resolveAndValidate(tool, step.with, vars, ['with']);
}

/** Arguments given as final values (no templates), validated against the tool. */
export function validateLiteralArgs(step: Pick<RunbookStep, 'tool' | 'with'>): ArgsResult {
  const tool = getTool(step.tool);
  if (!tool) return { ok: false, error: `unknown tool "${step.tool}"` };
  return validate(tool, step.with, ['with']);
}

/**
 * Run time: the verification's arguments — its own `with` resolved, or else the step's resolved
 * arguments that the verify tool accepts — validated against the verify tool.
 */
export function resolveVerifyArgs(step: Pick<RunbookStep, 'verify'>, stepArgs: Args, vars: CelVars): ArgsResult {
  if (!step.verify) return { ok: false, error: 'step has no verify' };
  const tool = getTool(step.verify.tool);
  if (!tool) return { ok: false, error: `unknown tool "${step.verify.tool}"` };
  if (step.verify.with) return resolveAndValidate(tool, step.verify.with, vars, ['verify', 'with']);
  return validate(tool, defaultVerifyArgs(tool, stepArgs), ['verify', 'with']);
}

function resolveAndValidate(tool: ToolDef, given: Args, vars: CelVars, label: SourcePath): ArgsResult {
  const resolved: Args = {};
  for (const [key, value] of Object.entries(given)) {
    try {
      resolved[key] = resolveTemplates(value, vars);
    } catch (err) {
      const message = err instanceof CelError ? err.message : String(err);
      return { ok: false, error: `${formatPath([...label, key])}: ${message}` };
    }
  }
  return validate(tool, resolved, label);
}

function validate(tool: ToolDef, args: Args, label: SourcePath): ArgsResult {
  const result = tool.args.safeParse(args);
  if (result.success) return { ok: true, args: result.data as Args };
  const messages = result.error.issues.flatMap((issue) => {
    const path = toSourcePath(issue.path);
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${formatPath([...label, key])}: unknown argument for ${tool.id}`);
    const missing = issue.code === 'invalid_type' && path.length === 1 && args[String(path[0])] === undefined;
    return [`${formatPath([...label, ...path])}: ${missing ? 'required' : issue.message}`];
  });
  return { ok: false, error: messages.join('; ') };
}
