import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { RemoteConfig } from './config';
import { jsonSchemaOf, strictJsonSchema, type JsonSchema } from './json-schema';
import { priceFor } from './pricing';
import { capRetryAfter, MAX_RETRY_WAIT_MS } from './retry-after';
import type { Provider, StructuredRequest, StructuredResult } from './provider';
import { fromSdkError } from './sdk-errors';
import { repairInstruction, runStructured, type Reply } from './structured';

const DEFAULT_MAX_OUTPUT_TOKENS = 16_000;
const SDK_ERRORS = { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError };

type ToolUse = Anthropic.Messages.ToolUseBlock;
type Message = Anthropic.MessageParam;

/**
 * How a model is asked for an answer in a schema. `tool`: a forced tool call (`tool_choice:
 * { type: 'tool' }`) whose input is the answer, which every tool-using Claude model supports.
 * `json_schema`: native JSON output (`output_config.format`), for the models whose thinking is
 * always on and which answer a forced tool choice with a 400 (Sonnet 5.5, Opus 5.5, Haiku 5.5,
 * Fable, Mythos). `ANTHROPIC_OUTPUT_MODE` overrides the choice for models this list predates.
 */
export function anthropicOutputMode(model: string): 'tool' | 'json_schema' {
  return /^claude-(sonnet-5-5|opus-5-5|haiku-5-5|fable-|mythos-)/.test(model) ? 'json_schema' : 'tool';
}

function textOf(message: Anthropic.Message): string {
  return message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
}

/** Anthropic messages; timeouts and bounded retries on 429/5xx/529 (honouring `Retry-After`) are the SDK's own. */
export function createAnthropicProvider(config: RemoteConfig): Provider {
  const client = new Anthropic({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    fetch: capRetryAfter(config.maxRetryWaitMs ?? MAX_RETRY_WAIT_MS),
  });
  const { price } = priceFor('anthropic', config.model, { configured: config.prices, customEndpoint: config.customEndpoint });
  const mode = config.outputMode ?? anthropicOutputMode(config.model);

  async function create(params: Anthropic.MessageCreateParamsNonStreaming, signal?: AbortSignal): Promise<Anthropic.Message> {
    try {
      return await client.messages.create(params, signal ? { signal } : undefined);
    } catch (err) {
      throw fromSdkError(err, SDK_ERRORS, 'anthropic', config.model, config.apiKey);
    }
  }

  function reply(message: Anthropic.Message): Pick<Reply, 'id' | 'model' | 'usage'> {
    return { id: message.id, model: message.model || config.model, usage: { input_tokens: message.usage.input_tokens, output_tokens: message.usage.output_tokens } };
  }

  /** The answer as the input of a forced tool call; a bad one goes back as an error `tool_result`. */
  function viaTool(req: StructuredRequest<unknown>, json: JsonSchema) {
    const base = { model: config.model, max_tokens: req.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS, system: req.system };
    const tool = { name: req.schemaName, ...(req.description !== undefined && { description: req.description }), input_schema: { ...json, type: 'object' } as Anthropic.Tool.InputSchema };
    return {
      start: req.messages.map((m): Message => ({ role: m.role, content: m.content })),
      async send(messages: Message[], signal?: AbortSignal): Promise<Reply> {
        const message = await create({ ...base, messages, tools: [tool], tool_choice: { type: 'tool', name: req.schemaName } }, signal);
        const text = textOf(message);
        if (message.stop_reason === 'refusal') return { ...reply(message), answer: { kind: 'refusal', message: text || 'refused' } };
        if (message.stop_reason === 'max_tokens') return { ...reply(message), answer: { kind: 'truncated' } };
        const call = message.content.find((block): block is ToolUse => block.type === 'tool_use' && block.name === req.schemaName);
        if (call) return { ...reply(message), answer: { kind: 'json', value: call.input }, raw: call };
        return { ...reply(message), answer: { kind: 'text', text, problem: `Answer by calling the tool "${req.schemaName}".` } };
      },
      repair(messages: Message[], bad: Reply, problem: string): Message[] {
        const call = bad.raw as ToolUse | undefined;
        if (!call) return [...messages, { role: 'assistant', content: bad.answer.kind === 'text' && bad.answer.text ? bad.answer.text : '(no answer)' }, { role: 'user', content: repairInstruction(problem) }];
        return [
          ...messages,
          { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: call.name, input: call.input }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, is_error: true, content: repairInstruction(problem) }] },
        ];
      },
    };
  }

  /** The answer as JSON text constrained by `output_config.format`; a bad one is quoted back in a user turn. */
  function viaJsonOutput(req: StructuredRequest<unknown>, json: JsonSchema) {
    const base = { model: config.model, max_tokens: req.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS, system: req.system };
    const format = { type: 'json_schema' as const, schema: strictJsonSchema(json).schema };
    return {
      start: req.messages.map((m): Message => ({ role: m.role, content: m.content })),
      async send(messages: Message[], signal?: AbortSignal): Promise<Reply> {
        const message = await create({ ...base, messages, output_config: { format } }, signal);
        const text = textOf(message);
        if (message.stop_reason === 'refusal') return { ...reply(message), answer: { kind: 'refusal', message: text || 'refused' } };
        if (message.stop_reason === 'max_tokens') return { ...reply(message), answer: { kind: 'truncated' } };
        try {
          return { ...reply(message), answer: { kind: 'json', value: JSON.parse(text) }, raw: text };
        } catch {
          return { ...reply(message), answer: { kind: 'text', text, problem: 'The answer is not valid JSON.' } };
        }
      },
      repair(messages: Message[], bad: Reply, problem: string): Message[] {
        const said = bad.answer.kind === 'text' ? bad.answer.text : String(bad.raw ?? '');
        return [...messages, { role: 'assistant', content: said || '(no answer)' }, { role: 'user', content: repairInstruction(problem) }];
      },
    };
  }

  return {
    name: 'anthropic',
    model: config.model,
    complete<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
      const json = jsonSchemaOf(req.schema);
      const generic = req as StructuredRequest<unknown>;
      const exchange = mode === 'tool' ? viaTool(generic, json) : viaJsonOutput(generic, json);
      return runStructured(req, json, { provider: 'anthropic', price }, exchange);
    },
  };
}
