import type { z } from 'zod';
import { createAnthropicProvider } from './anthropic';
import type { AgentConfig } from './config';
import { createOpenAIProvider } from './openai';
import { createStubProvider } from './stub';

export type ProviderName = 'stub' | 'openai' | 'anthropic';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** One turn of the conversation an agent sends; the system prompt travels separately. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface StructuredRequest<T> {
  system: string;
  messages: ChatMessage[];
  /** The answer's shape: sent to the model as JSON Schema, and the authority that checks what comes back. */
  schema: z.ZodType<T>;
  /** Names the schema (OpenAI `json_schema.name`) or the forced tool (Anthropic): `^[a-zA-Z0-9_-]{1,64}$`. */
  schemaName: string;
  description?: string;
  maxOutputTokens?: number;
  /**
   * The deterministic answer the `stub` provider gives; real providers ignore it. Each agent
   * supplies its own, so a new install behaves exactly as the engine did before agents existed.
   */
  stub: () => unknown;
  signal?: AbortSignal;
}

export interface StructuredResult<T> {
  /** Validated by `schema`: a result never carries an unchecked model answer. */
  output: T;
  /** Summed over every request this call made (a repair included): counted once, here. */
  usage: Usage;
  cost_usd: number;
  /** The model that answered, as the provider reports it (e.g. a dated snapshot). */
  model: string;
  provider: ProviderName;
  latency_ms: number;
  /** The provider's id of the last response (`chatcmpl-…`, `msg_…`), for support tickets. */
  raw_id: string;
  /** Requests that produced an answer: 1, or 2 after a repair. SDK-level retries of 429/5xx are not counted. */
  attempts: number;
}

/** One LLM backend. `complete` either returns a validated answer or throws an `AgentError`. */
export interface Provider {
  readonly name: ProviderName;
  /** The configured model (what prices are looked up by). */
  readonly model: string;
  complete<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>>;
}

/** The provider a configuration names. Building it does no I/O; a missing key was already reported by `loadAgentConfig`. */
export function createProvider(config: AgentConfig): Provider {
  switch (config.provider) {
    case 'stub':
      return createStubProvider();
    case 'openai':
      return createOpenAIProvider(config);
    case 'anthropic':
      return createAnthropicProvider(config);
  }
}
