import { z } from 'zod';
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

/** Duration arguments are part of the relay's contract (a drain's timeout): one definition for both. */
export { durationArg } from '../../k8s-relay/contract/duration';

/**
 * The most characters a free-text argument (an issue body, a comment, a note) may have: GitHub's
 * own limit for a body. Every argument is redacted and hashed into the audit log, so text without
 * a bound would cost the tenant's audit writer time in proportion to whatever a caller sends.
 */
export const MAX_FREE_TEXT = 65_536;

export function freeText() {
  return z.string().max(MAX_FREE_TEXT, `must be at most ${MAX_FREE_TEXT} characters`);
}
