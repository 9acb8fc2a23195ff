import { getTool } from './catalog';
import { memoryWorld } from './sim';
import type { SimWorld, ToolCallContext } from './types';

/** A call context for tests: simulated mode, one fresh world unless one is passed in. */
export function simContext(world: SimWorld = memoryWorld()): ToolCallContext {
  return { tenantId: 't-test', runId: 'run-1', stepId: 'step-1', idempotencyKey: 'run-1:step-1:1', mode: 'simulated', world };
}

/**
 * Calls a tool as the engine does: parse the arguments (so defaults apply), simulate, then check
 * the result against the tool's own schema.
 */
export async function callSimulated(
  id: string,
  args: Record<string, unknown>,
  ctx: ToolCallContext = simContext(),
): Promise<Record<string, unknown>> {
  const tool = getTool(id);
  if (!tool) throw new Error(`unknown tool ${id}`);
  const result: unknown = await tool.simulate(tool.args.parse(args), ctx);
  return tool.result.parse(result) as Record<string, unknown>;
}
