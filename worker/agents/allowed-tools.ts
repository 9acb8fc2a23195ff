import { roleOf, type Policy } from '../policy/schema';
import { describeTools, matchesToolPattern, tools } from '../tools/catalog';
import type { ToolDef } from '../tools/types';

/**
 * The tools the policy lets this role use, in catalog order. This is all an agent is shown, and
 * all a planner may add: a model's answer can never widen it.
 */
export function allowedTools(policy: Policy, role: string): ToolDef[] {
  const patterns = roleOf(policy, role)?.tools ?? [];
  return tools.filter((tool) => patterns.some((p) => matchesToolPattern(p, tool.id)));
}

/** What a model is told about a tool: the catalog's description and argument JSON Schema. */
export function toolBrief(ids: Iterable<string>): Array<{ id: string; description: string; mutating: boolean; risk: string; args_schema: Record<string, unknown> }> {
  const wanted = new Set(ids);
  return describeTools()
    .filter((d) => wanted.has(d.id))
    .map((d) => ({ id: d.id, description: d.description, mutating: d.mutating, risk: d.risk, args_schema: d.args_schema }));
}
