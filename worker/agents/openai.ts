import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { RemoteConfig } from './config';
import { jsonSchemaOf, strictJsonSchema } from './json-schema';
import { priceFor } from './pricing';
import { capRetryAfter, MAX_RETRY_WAIT_MS } from './retry-after';
import type { Provider, StructuredRequest, StructuredResult } from './provider';
import { fromSdkError } from './sdk-errors';
import { repairInstruction, runStructured, type Reply } from './structured';

/** Reasoning models count their reasoning here too: room enough for both, bounded by the run budget. */
const DEFAULT_MAX_OUTPUT_TOKENS = 16_000;

/**
 * OpenAI chat completions with a strict `json_schema` response format. Any OpenAI-compatible
 * server works through `baseURL` (vLLM, llama.cpp, Ollama, a gateway); timeouts and the bounded
 * retries on 429/5xx (honouring `Retry-After`) are the SDK's own.
 */
export function createOpenAIProvider(config: RemoteConfig): Provider {
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    fetch: capRetryAfter(config.maxRetryWaitMs ?? MAX_RETRY_WAIT_MS),
  });
  const { price } = priceFor('openai', config.model, { configured: config.prices, customEndpoint: config.customEndpoint });

  async function send(messages: ChatCompletionMessageParam[], req: StructuredRequest<unknown>, format: ReturnType<typeof strictJsonSchema>, signal?: AbortSignal): Promise<Reply> {
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await client.chat.completions.create(
        {
          model: config.model,
          messages,
          max_completion_tokens: req.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: req.schemaName,
              ...(req.description !== undefined && { description: req.description }),
              schema: format.schema,
              strict: format.strict,
            },
          },
        },
        signal ? { signal } : undefined,
      );
    } catch (err) {
      throw fromSdkError(err, { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError }, 'openai', config.model, config.apiKey);
    }
    const usage = { input_tokens: completion.usage?.prompt_tokens ?? 0, output_tokens: completion.usage?.completion_tokens ?? 0 };
    const base = { id: completion.id, model: completion.model || config.model, usage };
    const choice = completion.choices[0];
    if (choice?.message.refusal) return { ...base, answer: { kind: 'refusal', message: choice.message.refusal } };
    if (choice?.finish_reason === 'content_filter') return { ...base, answer: { kind: 'refusal', message: 'stopped by the content filter' } };
    if (choice?.finish_reason === 'length') return { ...base, answer: { kind: 'truncated' } };
    const text = choice?.message.content ?? '';
    try {
      return { ...base, answer: { kind: 'json', value: JSON.parse(text) } };
    } catch {
      return { ...base, answer: { kind: 'text', text, problem: 'The answer is not valid JSON.' } };
    }
  }

  return {
    name: 'openai',
    model: config.model,
    complete<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
      const json = jsonSchemaOf(req.schema);
      const format = strictJsonSchema(json);
      const start: ChatCompletionMessageParam[] = [{ role: 'system', content: req.system }, ...req.messages];
      return runStructured(req, json, { provider: 'openai', price }, {
        start,
        send: (messages, signal) => send(messages, req as StructuredRequest<unknown>, format, signal),
        repair: (messages, reply, problem): ChatCompletionMessageParam[] => [
          ...messages,
          { role: 'assistant', content: reply.answer.kind === 'text' ? reply.answer.text : JSON.stringify(reply.answer.kind === 'json' ? reply.answer.value : null) },
          { role: 'user', content: repairInstruction(problem) },
        ],
      });
    },
  };
}
