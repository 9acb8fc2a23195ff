import { canonicalJson, sha256Hex } from '../lib/crypto';
import { redact } from '../lib/redact';
import { withSpan, type Span } from '../observability/tracing';
import { AgentError } from './errors';
import type { Prompt } from './prompts';
import type { Provider, ProviderName, StructuredRequest } from './provider';

export type AgentRole = 'planner' | 'toolcaller' | 'reviewer';

/**
 * One agent call as recorded for `GET /runs/{id}/trace` and the live events: who answered, with
 * which prompt, what it cost, and what it said (secrets redacted) or why it failed. Tokens and cost
 * are the call's whole spend, a repair attempt included; charge the run exactly these, once.
 */
export interface AgentTrace {
  agent: AgentRole;
  /** The run step the call was about (toolcaller, reviewer). */
  step?: string;
  provider: ProviderName;
  model: string;
  prompt_version: string;
  /** SHA-256 of the exact system prompt, messages and schema name sent. */
  prompt_hash: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  latency_ms: number;
  /** Requests that produced an answer (2 after a repair); absent on a failed call. */
  attempts?: number;
  output?: unknown;
  error?: { code: string; message: string };
}

export type Called<T> = { ok: true; output: T; trace: AgentTrace } | { ok: false; error: AgentError; trace: AgentTrace };

/**
 * Calls the provider and records the call, whatever its outcome; never throws. The call is an
 * `llm <agent>` client span with the OpenTelemetry GenAI attributes (gen_ai.*): who answered, the
 * tokens and the cost — never the prompt or the answer, which quote a tenant's alerts and logs.
 */
export function callAgent<T>(agent: AgentRole, provider: Provider, prompt: Prompt, req: Omit<StructuredRequest<T>, 'system'>, step?: string): Promise<Called<T>> {
  const attrs = {
    'gen_ai.operation.name': 'chat',
    // gen_ai.system is the older name of gen_ai.provider.name; backends read one or the other.
    'gen_ai.system': provider.name,
    'gen_ai.provider.name': provider.name,
    'gen_ai.request.model': provider.model,
    'agentrunbook.agent': agent,
    'agentrunbook.agent.prompt_version': prompt.version,
    'agentrunbook.step.id': step,
  };
  return withSpan(
    `llm ${agent}`,
    attrs,
    async (span) => {
      const called = await call(agent, provider, prompt, req, step);
      annotate(span, called);
      return called;
    },
    { kind: 'client' },
  );
}

function annotate(span: Span, called: Called<unknown>): void {
  const t = called.trace;
  span.setAttributes({
    'gen_ai.response.model': t.model,
    'gen_ai.usage.input_tokens': t.input_tokens,
    'gen_ai.usage.output_tokens': t.output_tokens,
    'agentrunbook.cost_usd': t.cost_usd,
    'agentrunbook.agent.attempts': t.attempts,
  });
  if (called.ok) return;
  span.setAttribute('error.type', called.error.code);
  span.fail(called.error.message);
}

async function call<T>(agent: AgentRole, provider: Provider, prompt: Prompt, req: Omit<StructuredRequest<T>, 'system'>, step?: string): Promise<Called<T>> {
  const full: StructuredRequest<T> = { ...req, system: prompt.system };
  const prompt_hash = await sha256Hex(canonicalJson({ system: full.system, messages: full.messages, schema: full.schemaName }));
  const base = { agent, ...(step !== undefined && { step }), prompt_version: prompt.version, prompt_hash };
  const started = Date.now();
  try {
    const result = await provider.complete(full);
    return {
      ok: true,
      output: result.output,
      trace: {
        ...base,
        provider: result.provider,
        model: result.model,
        input_tokens: result.usage.input_tokens,
        output_tokens: result.usage.output_tokens,
        cost_usd: result.cost_usd,
        latency_ms: result.latency_ms,
        attempts: result.attempts,
        output: redact(result.output),
      },
    };
  } catch (err) {
    const error = err instanceof AgentError ? err : new AgentError('unavailable', `Agent call failed: ${String(redact(String(err)))}`, { provider: provider.name, cause: err });
    return {
      ok: false,
      error,
      trace: {
        ...base,
        provider: error.provider ?? provider.name,
        model: error.model ?? provider.model,
        input_tokens: error.usage.input_tokens,
        output_tokens: error.usage.output_tokens,
        cost_usd: error.cost_usd,
        latency_ms: Date.now() - started,
        error: { code: error.code, message: error.message },
      },
    };
  }
}
