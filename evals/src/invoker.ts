import type { ToolCall, ToolInvoker, ToolOutcome } from '../../worker/runs/invoke';
import { ToolError, type SimWorld } from '../../worker/tools/types';

/**
 * The simulated integrations without the ledger's database: the platform's own tools, run on the
 * run's world, with their arguments and results checked by the tools' schemas as the ledger
 * invoker does. A shadow run calls each step once and never resumes, so there is nothing for an
 * idempotency ledger to remember here. Every call is kept, so a case can see what ran.
 */
export class MemoryInvoker implements ToolInvoker {
  readonly calls: Array<{ tool: string; args: Record<string, unknown>; key: string; ok: boolean }> = [];

  async invoke(call: ToolCall): Promise<ToolOutcome> {
    const state = call.world;
    const world: SimWorld = {
      get: <T>(key: string) => state[key] as T | undefined,
      set: (key, value) => void (state[key] = value),
    };
    try {
      const args = call.tool.args.parse(call.args);
      const raw = await call.tool.simulate(args, {
        tenantId: call.tenantId,
        runId: call.runId,
        stepId: call.stepId,
        idempotencyKey: call.idempotencyKey,
        mode: 'simulated',
        world,
      });
      this.calls.push({ tool: call.tool.id, args: call.args, key: call.idempotencyKey, ok: true });
      return { ok: true, result: call.tool.result.parse(raw), replayed: false, mode: 'simulated' };
    } catch (err) {
      this.calls.push({ tool: call.tool.id, args: call.args, key: call.idempotencyKey, ok: false });
      if (err instanceof ToolError) return { ok: false, error: err.message, retryable: err.retryable, replayed: false, mode: 'simulated' };
      return { ok: false, error: err instanceof Error ? err.message : String(err), retryable: false, replayed: false, mode: 'simulated' };
    }
  }
}
