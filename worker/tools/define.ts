import { z } from 'zod';
import { parseDuration } from '../lib/duration';
import type { ToolDef, ToolOperation } from './types';

/**
 * Declares a tool with its argument and result types inferred from the schemas, then widens it
 * to the catalog's `ToolDef` so namespaces can be listed in one array. Arguments must be a
 * strict object (the catalog test checks): a misspelt argument in a runbook is an error, not a
 * silently ignored key.
 */
export function defineTool<A extends z.ZodObject, R extends z.ZodType>(def: ToolDef<A, R>): ToolDef {
  return def;
}

/** One dry-run operation; a shorthand that keeps the tool definitions to one line each. */
export function op(method: string, target: string, description: string): ToolOperation {
  return { method, target, description };
}

/**
 * A duration argument in runbook notation (`30s`, `5m`, `1h30m`), validated with the same
 * parser the run engine uses, so a value accepted here is one the engine can schedule.
 */
export function durationArg(max: string) {
  const maxMs = parseDuration(max) ?? 0;
  return z
    .string()
    .refine((text) => parseDuration(text) !== undefined, {
      message: 'expected a duration such as "30s", "5m" or "1h30m"',
    })
    .refine((text) => (parseDuration(text) ?? 0) <= maxMs, {
      message: `must be at most ${max}`,
    });
}

/**
 * The most characters a free-text argument (an issue body, a comment, a note) may have: GitHub's
 * own limit for a body. Every argument is redacted and hashed into the audit log, so text without
 * a bound would cost the tenant's audit writer time in proportion to whatever a caller sends.
 */
export const MAX_FREE_TEXT = 65_536;

export function freeText() {
  return z.string().max(MAX_FREE_TEXT, `must be at most ${MAX_FREE_TEXT} characters`);
}
