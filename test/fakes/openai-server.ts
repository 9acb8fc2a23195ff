import { delay, json, listen, record, Script, type Listening, type RecordedRequest } from './scripted-server';

/**
 * A fake of OpenAI's `POST /v1/chat/completions`, checking requests as the real API does (key,
 * model, messages, `response_format` with a strict JSON schema, unknown parameters) and answering
 * in its documented shapes: `chat.completion` with usage, or `{ error: { message, type, param, code } }`.
 */

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  response_format?: { type: string; json_schema?: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } };
  max_completion_tokens?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface OpenAIScript {
  /** Answer with this value as the message content, JSON-encoded. */
  json?: unknown;
  /** Answer with this exact content (e.g. broken JSON). */
  content?: string;
  refusal?: string;
  finish_reason?: 'stop' | 'length' | 'content_filter';
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** The model the answer claims (a dated snapshot, say); default: the requested one. */
  model?: string;
  /** Answer with this HTTP error instead of a completion. */
  status?: number;
  error?: { message?: string; type?: string; code?: string | null };
  headers?: Record<string, string>;
  /** Wait this long before answering (longer than the client's timeout: a timeout). */
  delayMs?: number;
}

export type OpenAIStep = OpenAIScript | ((body: ChatRequestBody) => OpenAIScript);

const PARAMS = new Set([
  'model', 'messages', 'response_format', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stop', 'seed',
  'tools', 'tool_choice', 'parallel_tool_calls', 'user', 'store', 'metadata', 'stream', 'stream_options', 'logprobs',
  'top_logprobs', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'reasoning_effort', 'service_tier', 'safety_identifier',
  'prompt_cache_key', 'verbosity', 'modalities', 'prediction', 'audio', 'web_search_options',
]);
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function invalid(message: string, param: string | null = null, status = 400): Response {
  return json(status, { error: { message, type: 'invalid_request_error', param, code: null } });
}

export function tokensOf(text: string): number {
  return Math.ceil(text.length / 4);
}

export class FakeOpenAI {
  readonly requests: RecordedRequest<ChatRequestBody>[] = [];
  private readonly script = new Script<OpenAIScript, ChatRequestBody>();
  private server: Listening | undefined;
  private counter = 0;

  constructor(readonly apiKey = 'sk-test-fake-openai-key-000000000000') {}

  /** Queues answers, one per request, in order. */
  reply(...steps: OpenAIStep[]): this {
    this.script.push(steps);
    return this;
  }

  /** The answer once the queue is empty (default: a 400 naming the unscripted request). */
  otherwise(step: OpenAIStep): this {
    this.script.otherwise(step);
    return this;
  }

  get unanswered(): number {
    return this.script.remaining;
  }

  /** The last request's messages as one string per message (content parts joined). */
  messagesOf(index = this.requests.length - 1): Array<{ role: string; text: string }> {
    const body = this.requests[index]?.body;
    return (body?.messages ?? []).map((m) => ({ role: m.role, text: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) }));
  }

  readonly handler = async (req: Request): Promise<Response> => {
    const { recorded, parseError } = await record<ChatRequestBody>(req);
    const path = recorded.path;
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return json(404, { error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } });
    }
    this.requests.push(recorded as RecordedRequest<ChatRequestBody>);
    if (recorded.headers.authorization !== `Bearer ${this.apiKey}`) {
      const given = (recorded.headers.authorization ?? '').replace(/^Bearer /, '');
      // The real API echoes a masked key; clients must not pass that on.
      return json(401, { error: { message: `Incorrect API key provided: ${given.slice(0, 3)}***${given.slice(-4)}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
    if (parseError || recorded.body === undefined) return invalid(`We could not parse the JSON body of your request. (${parseError ?? 'empty body'})`);
    const body = recorded.body;
    const problem = checkRequest(body);
    if (problem) return problem;

    const step = this.script.next(body) ?? { status: 400, error: { message: `fake-openai: no scripted answer for request #${this.requests.length}` } };
    if (step.delayMs) await delay(step.delayMs, req.signal);
    if (step.status !== undefined) {
      const type = step.status === 429 ? 'requests' : step.status >= 500 ? 'server_error' : 'invalid_request_error';
      const code = step.status === 429 ? 'rate_limit_exceeded' : null;
      return json(step.status, { error: { message: step.error?.message ?? `fake error ${step.status}`, type: step.error?.type ?? type, param: null, code: step.error?.code ?? code } }, step.headers);
    }
    const content = step.refusal !== undefined ? null : (step.content ?? JSON.stringify(step.json ?? {}));
    const usage = step.usage ?? { prompt_tokens: tokensOf(JSON.stringify(body.messages)), completion_tokens: tokensOf(content ?? step.refusal ?? '') };
    return json(
      200,
      {
        id: `chatcmpl-fake${++this.counter}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: step.model ?? body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: step.refusal ?? null, annotations: [] },
            logprobs: null,
            finish_reason: step.finish_reason ?? 'stop',
          },
        ],
        usage: {
          ...usage,
          total_tokens: usage.prompt_tokens + usage.completion_tokens,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        service_tier: 'default',
        system_fingerprint: 'fp_fake',
      },
      { 'x-request-id': `req_fake${this.counter}` },
    );
  };

  /** Serves on a local port; returns the base URL to configure (`…/v1`). */
  async listen(): Promise<string> {
    this.server ??= await listen(this.handler);
    return `${this.server.origin}/v1`;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}

function checkRequest(body: ChatRequestBody): Response | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('The request body must be a JSON object.');
  for (const key of Object.keys(body)) if (!PARAMS.has(key)) return invalid(`Unrecognized request argument supplied: ${key}`, key);
  if (typeof body.model !== 'string' || body.model === '') return invalid('you must provide a model parameter', 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) return invalid("Invalid 'messages': empty array. Expected an array with minimum length 1.", 'messages');
  for (const [i, m] of body.messages.entries()) {
    if (!ROLES.has(m.role)) return invalid(`Invalid value: '${m.role}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'function', and 'developer'.`, `messages[${i}].role`);
    if (m.role !== 'assistant' && typeof m.content !== 'string' && !Array.isArray(m.content)) return invalid(`Invalid type for 'messages[${i}].content'.`, `messages[${i}].content`);
  }
  for (const key of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = body[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) return invalid(`Invalid '${key}': must be a positive integer.`, key);
  }
  if (body.max_tokens !== undefined && body.max_completion_tokens !== undefined) return invalid("Use either 'max_tokens' or 'max_completion_tokens', not both.", 'max_tokens');
  const format = body.response_format;
  if (format === undefined) return undefined;
  if (format.type === 'text' || format.type === 'json_object') return undefined;
  if (format.type !== 'json_schema') return invalid(`Invalid value: '${format.type}'. Supported values are: 'text', 'json_object' and 'json_schema'.`, 'response_format.type');
  const spec = format.json_schema;
  if (!spec || typeof spec.name !== 'string' || !NAME.test(spec.name)) return invalid("Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$.", 'response_format.json_schema.name');
  if (spec.schema !== undefined && (typeof spec.schema !== 'object' || spec.schema === null)) return invalid("Invalid 'response_format.json_schema.schema': expected an object.", 'response_format.json_schema.schema');
  if (spec.strict) {
    const error = strictSchemaError(spec.schema ?? {});
    if (error) return invalid(`Invalid schema for response_format '${spec.name}': ${error}`, 'response_format');
  }
  return undefined;
}

/** Keywords strict mode accepts (OpenAI structured outputs, "supported schemas"). */
const STRICT_ALLOWED = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'anyOf', 'description', 'title', '$ref', '$defs',
  'definitions', 'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', '$schema',
]);

/** The first reason strict mode would refuse a schema, worded like the API's own message. */
export function strictSchemaError(schema: unknown, path: string[] = [], depth = 0): string | undefined {
  const at = `In context=(${path.map((p) => `'${p}'`).join(', ')})`;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return `${at}, schema must be a JSON Schema object.`;
  const node = schema as Record<string, unknown>;
  if (depth === 0 && node.type !== 'object') return `${at}, schema must be a JSON Schema of 'type: "object"', got 'type: "${String(node.type)}"'.`;
  if (depth > 10) return `${at}, schema nesting exceeds 10 levels.`;
  for (const key of Object.keys(node)) if (!STRICT_ALLOWED.has(key)) return `${at}, '${key}' is not permitted.`;
  if (node.type === undefined && node.anyOf === undefined && node.enum === undefined && node.const === undefined && node.$ref === undefined) {
    return `${at}, schema must have a 'type' key.`;
  }
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('object')) {
    if (node.additionalProperties !== false) return `${at}, 'additionalProperties' is required to be supplied and to be false.`;
    const props = (node.properties ?? {}) as Record<string, unknown>;
    const required = Array.isArray(node.required) ? node.required : [];
    const missing = Object.keys(props).filter((k) => !required.includes(k));
    if (missing.length > 0) return `${at}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    for (const [key, value] of Object.entries(props)) {
      const error = strictSchemaError(value, [...path, 'properties', key], depth + 1);
      if (error) return error;
    }
  }
  if (node.items !== undefined) {
    const error = strictSchemaError(node.items, [...path, 'items'], depth + 1);
    if (error) return error;
  }
  if (Array.isArray(node.anyOf)) {
    for (const [i, variant] of node.anyOf.entries()) {
      const error = strictSchemaError(variant, [...path, 'anyOf', String(i)], depth + 1);
      if (error) return error;
    }
  }
  return undefined;
}

/** Convenience for tests in Node: a fake already listening. */
export async function startFakeOpenAI(apiKey?: string): Promise<{ fake: FakeOpenAI; baseURL: string }> {
  const fake = new FakeOpenAI(apiKey);
  return { fake, baseURL: await fake.listen() };
}
