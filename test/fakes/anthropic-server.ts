import { delay, json, listen, record, Script, type Listening, type RecordedRequest } from './scripted-server';
import { tokensOf } from './openai-server';

/**
 * A fake of Anthropic's `POST /v1/messages`, checking requests as the real API does (the key,
 * `anthropic-version`, `max_tokens`, message roles, tools and `tool_choice`, every `tool_use`
 * answered by a `tool_result` in the next turn, native JSON output's schema, no forced tool choice
 * on always-thinking models) and answering in its documented shapes: a `message` with `tool_use`
 * or text content and usage, or `{ type: 'error', error: { type, message } }`.
 */

export interface Block {
  type: string;
  [key: string]: unknown;
}

export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  system?: string | Block[];
  messages: Array<{ role: string; content: string | Block[] }>;
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?: { type: string; name?: string };
  output_config?: { format?: { type: string; schema?: Record<string, unknown> }; effort?: string };
  [key: string]: unknown;
}

export interface AnthropicScript {
  /** Answer with a `tool_use` block carrying this input (the forced tool's name unless `toolName`). */
  input?: unknown;
  toolName?: string;
  /** Answer with a text block (alone, or before the tool call when `input` is set). */
  text?: string;
  /** Answer with this value as JSON text (native JSON output, `output_config.format`). */
  json?: unknown;
  stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal';
  usage?: { input_tokens: number; output_tokens: number };
  model?: string;
  status?: number;
  error?: { type?: string; message?: string };
  headers?: Record<string, string>;
  delayMs?: number;
}

export type AnthropicStep = AnthropicScript | ((body: MessagesRequestBody) => AnthropicScript);

const PARAMS = new Set([
  'model', 'max_tokens', 'messages', 'system', 'tools', 'tool_choice', 'temperature', 'top_p', 'top_k', 'stop_sequences',
  'stream', 'metadata', 'thinking', 'service_tier', 'container', 'mcp_servers', 'output_config',
]);
/** Models whose thinking is always on: they refuse a forced tool choice, as the real API does. */
const NO_FORCED_TOOL = /^claude-(sonnet-5-5|opus-5-5|haiku-5-5|fable-|mythos-)/;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

function error(status: number, message: string, headers: Record<string, string> = {}, type = ERROR_TYPES[status] ?? 'api_error'): Response {
  return json(status, { type: 'error', error: { type, message }, request_id: `req_fake_${status}` }, { 'request-id': `req_fake_${status}`, ...headers });
}

export class FakeAnthropic {
  readonly requests: RecordedRequest<MessagesRequestBody>[] = [];
  private readonly script = new Script<AnthropicScript, MessagesRequestBody>();
  private server: Listening | undefined;
  private counter = 0;

  constructor(readonly apiKey = 'sk-ant-test-fake-anthropic-key-0000') {}

  reply(...steps: AnthropicStep[]): this {
    this.script.push(steps);
    return this;
  }

  otherwise(step: AnthropicStep): this {
    this.script.otherwise(step);
    return this;
  }

  get unanswered(): number {
    return this.script.remaining;
  }

  readonly handler = async (req: Request): Promise<Response> => {
    const { recorded, parseError } = await record<MessagesRequestBody>(req);
    if (req.method !== 'POST' || recorded.path !== '/v1/messages') return error(404, `Not found: ${req.method} ${recorded.path}`);
    this.requests.push(recorded as RecordedRequest<MessagesRequestBody>);
    // The API documents `x-api-key`; SDK 1.x sends the key as `Authorization: Bearer`. Both are accepted.
    const key = recorded.headers['x-api-key'] ?? recorded.headers.authorization?.replace(/^Bearer /, '');
    if (key !== this.apiKey) return error(401, 'invalid x-api-key');
    if (!recorded.headers['anthropic-version']) return error(400, 'anthropic-version: header is required');
    if (parseError || recorded.body === undefined) return error(400, `Request body is not valid JSON: ${parseError ?? 'empty body'}`);
    const body = recorded.body;
    const problem = checkRequest(body);
    if (problem) return error(400, problem);

    const step = this.script.next(body) ?? { status: 400, error: { message: `fake-anthropic: no scripted answer for request #${this.requests.length}` } };
    if (step.delayMs) await delay(step.delayMs, req.signal);
    if (step.status !== undefined) return error(step.status, step.error?.message ?? `fake error ${step.status}`, step.headers, step.error?.type);

    const content: Block[] = [];
    if (step.text !== undefined) content.push({ type: 'text', text: step.text });
    if (step.json !== undefined) content.push({ type: 'text', text: JSON.stringify(step.json) });
    if (step.input !== undefined) {
      content.push({ type: 'tool_use', id: `toolu_fake${++this.counter}`, name: step.toolName ?? body.tool_choice?.name ?? body.tools?.[0]?.name ?? 'tool', input: step.input });
    }
    const stop = step.stop_reason ?? (step.input !== undefined ? 'tool_use' : 'end_turn');
    const usage = step.usage ?? {
      input_tokens: tokensOf(JSON.stringify({ system: body.system, messages: body.messages, tools: body.tools })),
      output_tokens: tokensOf(JSON.stringify(content)),
    };
    return json(
      200,
      {
        id: `msg_fake${++this.counter}`,
        type: 'message',
        role: 'assistant',
        model: step.model ?? body.model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: { ...usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: 'standard' },
      },
      { 'request-id': `req_fake${this.counter}` },
    );
  };

  /** Serves on a local port; returns the base URL to configure (the SDK appends `/v1/messages`). */
  async listen(): Promise<string> {
    this.server ??= await listen(this.handler);
    return this.server.origin;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}

function blocks(content: string | Block[]): Block[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function checkRequest(body: MessagesRequestBody): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'The request body must be a JSON object.';
  for (const key of Object.keys(body)) if (!PARAMS.has(key)) return `${key}: Extra inputs are not permitted`;
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Field required (a positive integer)';
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) return 'system: Input should be a valid string or list of text blocks';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  if (body.messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  for (const [i, m] of body.messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return `messages.${i}.content: Input should be a valid string or list`;
    const uses = blocks(m.content).filter((b) => b.type === 'tool_use').map((b) => String(b.id));
    if (m.role === 'user' && uses.length > 0) return `messages.${i}: tool_use blocks may only appear in assistant messages`;
    if (uses.length === 0) continue;
    const next = body.messages[i + 1];
    const results = next ? blocks(next.content).filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)) : [];
    const unanswered = uses.filter((id) => !results.includes(id));
    if (next && unanswered.length > 0) {
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }
  const tools = body.tools ?? [];
  if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
  for (const [i, tool] of tools.entries()) {
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) return `tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
    if (typeof tool.input_schema !== 'object' || tool.input_schema === null || tool.input_schema.type !== 'object') return `tools.${i}.input_schema.type: Input should be 'object'`;
  }
  const choice = body.tool_choice;
  if (choice !== undefined) {
    if (!['auto', 'any', 'tool', 'none'].includes(choice.type)) return `tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'`;
    if (choice.type === 'tool' && !tools.some((t) => t.name === choice.name)) return `tool_choice: tool "${String(choice.name)}" is not in tools`;
    if ((choice.type === 'tool' || choice.type === 'any') && NO_FORCED_TOOL.test(body.model)) return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  const format = body.output_config?.format;
  if (format !== undefined) {
    if (format.type !== 'json_schema') return `output_config.format.type: Input should be 'json_schema'`;
    const problem = jsonOutputSchemaError(format.schema);
    if (problem) return `output_config.format.schema: ${problem}`;
  }
  return undefined;
}

/** What native JSON output refuses in a schema: a root that is not an object, or an object open to other properties. */
function jsonOutputSchemaError(schema: unknown, path = 'schema'): string | undefined {
  if (typeof schema !== 'object' || schema === null) return `${path} must be a JSON Schema object`;
  const node = schema as Record<string, unknown>;
  if (path === 'schema' && node.type !== 'object') return 'the root must be of type "object"';
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('object') && node.additionalProperties !== false) return `${path}: additionalProperties must be false for objects`;
  const children = [
    ...Object.entries((node.properties ?? {}) as Record<string, unknown>).map(([k, v]) => [`${path}.properties.${k}`, v] as const),
    ...(node.items !== undefined ? [[`${path}.items`, node.items] as const] : []),
    ...(Array.isArray(node.anyOf) ? node.anyOf.map((v, i) => [`${path}.anyOf[${i}]`, v] as const) : []),
  ];
  for (const [at, child] of children) {
    const problem = jsonOutputSchemaError(child, at);
    if (problem) return problem;
  }
  return undefined;
}

/** Convenience for tests in Node: a fake already listening. */
export async function startFakeAnthropic(apiKey?: string): Promise<{ fake: FakeAnthropic; baseURL: string }> {
  const fake = new FakeAnthropic(apiKey);
  return { fake, baseURL: await fake.listen() };
}
