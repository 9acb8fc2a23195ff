import { z } from 'zod';
import { coreTools } from './core';
import { githubTools } from './github';
import { jiraTools } from './jira';
import { k8sTools } from './k8s';
import { pagerdutyTools } from './pagerduty';
import type { ToolDef, ToolDescriptor } from './types';

/** Every tool the engine can call, in the order DESIGN §3 lists them. */
export const tools: readonly ToolDef[] = [...githubTools, ...jiraTools, ...pagerdutyTools, ...k8sTools, ...coreTools];

const byId = new Map(tools.map((tool) => [tool.id, tool]));

export function getTool(id: string): ToolDef | undefined {
  return byId.get(id);
}

export function toolIds(): string[] {
  return tools.map((tool) => tool.id);
}

/**
 * Arguments are described as a caller writes them (`io: 'input'`: defaulted fields optional),
 * results as the tool returns them. Refinements (duration limits) have no JSON Schema form;
 * the zod schema stays the authority and reports them on validation.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io });
}

let descriptors: ToolDescriptor[] | undefined;

/** The catalog as served by `GET /api/v1/tools`; computed on first use, then shared. */
export function describeTools(): ToolDescriptor[] {
  descriptors ??= tools.map((tool) => ({
    id: tool.id,
    namespace: tool.id.slice(0, tool.id.indexOf('.')),
    description: tool.description,
    mutating: tool.mutating,
    risk: tool.risk,
    compensation: tool.compensation?.tool ?? null,
    args_schema: jsonSchema(tool.args, 'input'),
    result_schema: jsonSchema(tool.result, 'output'),
  }));
  return descriptors;
}

/**
 * Whether a tool id matches a policy pattern such as `*`, `k8s.*` or `k8s.get_*`. `*` stands
 * for any run of characters (dots included); everything else matches literally. Policies check
 * this on every call, so it compares strings rather than building a RegExp each time.
 */
export function matchesToolPattern(pattern: string, id: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === id;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (id.length < first.length + last.length || !id.startsWith(first) || !id.endsWith(last)) return false;
  // Taking each middle part at its leftmost place leaves the most room for the rest.
  let pos = first.length;
  for (const part of parts.slice(1, -1)) {
    const at = id.indexOf(part, pos);
    if (at < 0) return false;
    pos = at + part.length;
  }
  return pos <= id.length - last.length;
}
