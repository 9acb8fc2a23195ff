import { z } from 'zod';
import { AgentError } from './errors';
import type { Provider, StructuredRequest, StructuredResult } from './provider';

/**
 * The default provider: no key, no network, no cost. It returns the answer each agent computes
 * deterministically (the runbook's own steps, the template's own arguments, no objection), checked
 * by the same schema as a model's answer, so the stub exercises the same path the models do.
 */
export function createStubProvider(): Provider {
  return {
    name: 'stub',
    model: 'stub',
    async complete<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
      const started = Date.now();
      const result = req.schema.safeParse(req.stub());
      if (!result.success) {
        throw new AgentError('invalid_output', `The stub answer for ${req.schemaName} is invalid: ${z.prettifyError(result.error)}`, { provider: 'stub', model: 'stub' });
      }
      return {
        output: result.data,
        usage: { input_tokens: 0, output_tokens: 0 },
        cost_usd: 0,
        model: 'stub',
        provider: 'stub',
        latency_ms: Date.now() - started,
        raw_id: 'stub',
        attempts: 1,
      };
    },
  };
}
