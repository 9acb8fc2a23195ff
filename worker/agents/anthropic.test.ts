import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeAnthropic } from '../../test/fakes/anthropic-server';
import { createAnthropicProvider } from './anthropic';
import type { RemoteConfig } from './config';
import { AgentError } from './errors';
import type { StructuredRequest } from './provider';

const verdict = z.strictObject({ verdict: z.enum(['ok', 'deny']), reason: z.string().min(3) });

function request(): StructuredRequest<z.infer<typeof verdict>> {
  return {
    system: 'You review calls.',
    messages: [{ role: 'user', content: 'Review this.' }],
    schema: verdict,
    schemaName: 'review',
    description: 'Your verdict on the call.',
    stub: () => ({ verdict: 'ok', reason: 'stub' }),
  };
}

let fake: FakeAnthropic;
let baseURL: string;

function provider(over: Partial<RemoteConfig> = {}) {
  return createAnthropicProvider({ model: 'claude-sonnet-4-6', apiKey: fake.apiKey, baseURL, customEndpoint: false, timeoutMs: 5_000, maxRetries: 2, prices: {}, ...over });
}

async function failure(promise: Promise<unknown>): Promise<AgentError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

beforeAll(async () => {
  fake = new FakeAnthropic();
  baseURL = await fake.listen();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  expect(fake.unanswered).toBe(0);
});

describe('anthropic provider (real SDK against the fake API)', () => {
  it('forces a tool call whose input is the answer, with usage and cost', async () => {
    fake.reply({ input: { verdict: 'ok', reason: 'looks fine' }, usage: { input_tokens: 2_000, output_tokens: 100 }, model: 'claude-sonnet-4-6-20260217' });
    const result = await provider().complete(request());

    expect(result.output).toEqual({ verdict: 'ok', reason: 'looks fine' });
    expect(result.usage).toEqual({ input_tokens: 2_000, output_tokens: 100 });
    expect(result.cost_usd).toBeCloseTo((2_000 * 3 + 100 * 15) / 1e6, 12);
    expect(result).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-6-20260217', attempts: 1 });
    expect(result.raw_id).toMatch(/^msg_/);

    const sent = fake.requests[0]!;
    expect(sent.headers['x-api-key'] ?? sent.headers.authorization?.replace('Bearer ', '')).toBe(fake.apiKey);
    expect(sent.headers['anthropic-version']).toBeTruthy();
    expect(sent.body.system).toBe('You review calls.');
    expect(sent.body.tool_choice).toEqual({ type: 'tool', name: 'review' });
    expect(sent.body.tools).toEqual([
      expect.objectContaining({ name: 'review', description: 'Your verdict on the call.', input_schema: expect.objectContaining({ type: 'object', required: ['verdict', 'reason'] }) }),
    ]);
    expect(sent.body.max_tokens).toBeGreaterThan(0);
  });

  it('returns an invalid answer as an error tool_result and accepts the repaired one', async () => {
    fake.reply(
      { input: { verdict: 'perhaps', reason: 'x' }, usage: { input_tokens: 100, output_tokens: 10 } },
      { input: { verdict: 'deny', reason: 'too risky' }, usage: { input_tokens: 160, output_tokens: 12 } },
    );
    const result = await provider().complete(request());
    expect(result.output).toEqual({ verdict: 'deny', reason: 'too risky' });
    expect(result.usage).toEqual({ input_tokens: 260, output_tokens: 22 });
    expect(result.attempts).toBe(2);

    const messages = fake.requests[1]!.body.messages;
    const [assistant, user] = messages.slice(-2) as Array<{ role: string; content: Array<Record<string, unknown>> }>;
    expect(assistant!.role).toBe('assistant');
    expect(assistant!.content[0]).toMatchObject({ type: 'tool_use', name: 'review', input: { verdict: 'perhaps', reason: 'x' } });
    expect(user!.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: assistant!.content[0]!.id, is_error: true });
    expect(String(user!.content[0]!.content)).toContain('verdict');
  });

  it('asks again when the model answers in text instead of calling the tool', async () => {
    fake.reply({ text: 'Sure, it is fine.' }, { input: { verdict: 'ok', reason: 'now as a tool call' } });
    const result = await provider().complete(request());
    expect(result.output.reason).toBe('now as a tool call');
    expect(JSON.stringify(fake.requests[1]!.body.messages.at(-1))).toContain('calling the tool');
  });

  it('waits out a 429 with Retry-After, then succeeds', async () => {
    fake.reply({ status: 429, headers: { 'retry-after': '1' } }, { input: { verdict: 'ok', reason: 'after wait' } });
    const result = await provider().complete(request());
    expect(result.output.reason).toBe('after wait');
    expect(fake.requests[1]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('reports the provider unavailable when it stays overloaded (529) after bounded retries', async () => {
    fake.reply({ status: 529, headers: { 'retry-after-ms': '10' } }, { status: 529, headers: { 'retry-after-ms': '10' } });
    const err = await failure(provider({ maxRetries: 1 }).complete(request()));
    expect(err).toMatchObject({ code: 'unavailable', status: 529, provider: 'anthropic' });
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a timeout', async () => {
    fake.reply({ delayMs: 3_000, input: { verdict: 'ok', reason: 'too late' } });
    expect((await failure(provider({ timeoutMs: 300, maxRetries: 0 }).complete(request()))).code).toBe('timeout');
  });

  it('turns a refusal stop into a typed error', async () => {
    fake.reply({ text: 'I cannot help with this request.', stop_reason: 'refusal' });
    const err = await failure(provider().complete(request()));
    expect(err.code).toBe('refusal');
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a rejected key', async () => {
    const err = await failure(provider({ apiKey: 'sk-ant-wrong-0123456789abcdef' }).complete(request()));
    expect(err).toMatchObject({ code: 'rejected', status: 401 });
    expect(err.message).not.toContain('sk-ant-wrong');
  });

  it('asks a model that refuses forced tool use for native JSON output instead', async () => {
    fake.reply({ json: { verdict: 'ok', reason: 'native json' }, usage: { input_tokens: 1_000, output_tokens: 100 } });
    const result = await provider({ model: 'claude-sonnet-5-5' }).complete(request());
    expect(result.output).toEqual({ verdict: 'ok', reason: 'native json' });
    expect(result.cost_usd).toBeCloseTo((1_000 * 2 + 100 * 10) / 1e6, 12);
    const body = fake.requests[0]!.body;
    expect(body.tools).toBeUndefined();
    expect(body.tool_choice).toBeUndefined();
    expect(body.output_config?.format).toMatchObject({ type: 'json_schema', schema: { type: 'object', additionalProperties: false, required: ['verdict', 'reason'] } });
  });

  it('repairs broken native JSON output in a new user turn', async () => {
    fake.reply({ text: '{"verdict": "ok", "reason"' }, { json: { verdict: 'deny', reason: 'second try' } });
    const result = await provider({ model: 'claude-haiku-5-5' }).complete(request());
    expect(result.output).toEqual({ verdict: 'deny', reason: 'second try' });
    const messages = fake.requests[1]!.body.messages;
    expect(messages.slice(-2)).toEqual([
      { role: 'assistant', content: '{"verdict": "ok", "reason"' },
      { role: 'user', content: expect.stringContaining('not valid JSON') },
    ]);
  });

  it('forcing a tool call on such a model is refused by the API, which is why the mode is chosen by model', async () => {
    const err = await failure(provider({ model: 'claude-sonnet-5-5', outputMode: 'tool' }).complete(request()));
    expect(err).toMatchObject({ code: 'rejected', status: 400 });
    expect(err.message).toContain('tool_choice forces tool use');
  });
});
