import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeOpenAI } from '../../test/fakes/openai-server';
import type { RemoteConfig } from './config';
import { AgentError } from './errors';
import { createOpenAIProvider } from './openai';
import type { StructuredRequest } from './provider';

const verdict = z.strictObject({ verdict: z.enum(['ok', 'deny']), reason: z.string().min(3), note: z.string().optional() });

function request(over: Partial<StructuredRequest<z.infer<typeof verdict>>> = {}): StructuredRequest<z.infer<typeof verdict>> {
  return {
    system: 'You review calls.',
    messages: [{ role: 'user', content: 'Review this.' }],
    schema: verdict,
    schemaName: 'review',
    stub: () => ({ verdict: 'ok', reason: 'stub' }),
    ...over,
  };
}

let fake: FakeOpenAI;
let baseURL: string;

function provider(over: Partial<RemoteConfig> = {}) {
  return createOpenAIProvider({ model: 'gpt-4.1-mini', apiKey: fake.apiKey, baseURL, customEndpoint: false, timeoutMs: 5_000, maxRetries: 2, prices: {}, ...over });
}

async function failure(promise: Promise<unknown>): Promise<AgentError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

beforeAll(async () => {
  fake = new FakeOpenAI();
  baseURL = await fake.listen();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  expect(fake.unanswered).toBe(0);
});

describe('openai provider (real SDK against the fake API)', () => {
  it('asks for a strict json_schema answer and returns it validated, with usage and cost', async () => {
    fake.reply({ json: { verdict: 'ok', reason: 'looks fine', note: null }, usage: { prompt_tokens: 1_000, completion_tokens: 200 }, model: 'gpt-4.1-mini-2025-04-14' });
    const result = await provider().complete(request());

    expect(result.output).toEqual({ verdict: 'ok', reason: 'looks fine' });
    expect(result.usage).toEqual({ input_tokens: 1_000, output_tokens: 200 });
    expect(result.cost_usd).toBeCloseTo((1_000 * 0.4 + 200 * 1.6) / 1e6, 12);
    expect(result).toMatchObject({ provider: 'openai', model: 'gpt-4.1-mini-2025-04-14', attempts: 1, raw_id: 'chatcmpl-fake1' });

    const body = fake.requests[0]!.body;
    expect(body.model).toBe('gpt-4.1-mini');
    expect(body.messages).toEqual([{ role: 'system', content: 'You review calls.' }, { role: 'user', content: 'Review this.' }]);
    expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'review', strict: true } });
    const schema = body.response_format!.json_schema!.schema!;
    expect(schema).toMatchObject({ additionalProperties: false, required: ['verdict', 'reason', 'note'] });
    expect(body.max_completion_tokens).toBeGreaterThan(0);
  });

  it('repairs an answer that is not JSON once, and counts both requests', async () => {
    fake.reply(
      { content: '{"verdict": "ok", "reason": ', usage: { prompt_tokens: 100, completion_tokens: 10 } },
      { json: { verdict: 'deny', reason: 'too risky' }, usage: { prompt_tokens: 150, completion_tokens: 20 } },
    );
    const result = await provider().complete(request());

    expect(result.output).toEqual({ verdict: 'deny', reason: 'too risky' });
    expect(result.attempts).toBe(2);
    expect(result.usage).toEqual({ input_tokens: 250, output_tokens: 30 });
    expect(result.cost_usd).toBeCloseTo((250 * 0.4 + 30 * 1.6) / 1e6, 12);
    const second = fake.messagesOf(1);
    expect(second.at(-2)).toEqual({ role: 'assistant', text: '{"verdict": "ok", "reason": ' });
    expect(second.at(-1)!.role).toBe('user');
    expect(second.at(-1)!.text).toContain('not valid JSON');
  });

  it('repairs JSON that fails the zod schema, quoting the problem', async () => {
    fake.reply({ json: { verdict: 'maybe', reason: 'hm' } }, { json: { verdict: 'ok', reason: 'fixed now' } });
    const result = await provider().complete(request());
    expect(result.output.verdict).toBe('ok');
    const repair = fake.messagesOf(1).at(-1)!.text;
    expect(repair).toContain('verdict');
    expect(repair).toContain('reason');
  });

  it('gives up with invalid_output after one repair, charging both attempts', async () => {
    fake.reply({ content: 'nope', usage: { prompt_tokens: 10, completion_tokens: 1 } }, { json: { verdict: 'x' }, usage: { prompt_tokens: 20, completion_tokens: 2 } });
    const err = await failure(provider().complete(request()));
    expect(err.code).toBe('invalid_output');
    expect(err.usage).toEqual({ input_tokens: 30, output_tokens: 3 });
    expect(err.cost_usd).toBeCloseTo((30 * 0.4 + 3 * 1.6) / 1e6, 12);
    expect(fake.requests).toHaveLength(2);
  });

  it('waits out a 429 as Retry-After says, then succeeds; the 429 costs nothing', async () => {
    fake.reply({ status: 429, headers: { 'retry-after': '1' } }, { json: { verdict: 'ok', reason: 'after wait' }, usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const result = await provider().complete(request());
    expect(result.output.reason).toBe('after wait');
    expect(result.usage).toEqual({ input_tokens: 7, output_tokens: 3 });
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('caps a Retry-After of an hour, so a run is never held that long by one call', async () => {
    fake.reply({ status: 429, headers: { 'retry-after': '3600' } }, { json: { verdict: 'ok', reason: 'soon enough' } });
    const started = Date.now();
    const result = await provider({ maxRetryWaitMs: 50 }).complete(request());
    expect(result.output.reason).toBe('soon enough');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fake.requests).toHaveLength(2);
  });

  it('retries a 500 a bounded number of times, then reports the provider unavailable', async () => {
    fake.reply({ status: 500, headers: { 'retry-after-ms': '10' } }, { status: 500, headers: { 'retry-after-ms': '10' } });
    const err = await failure(provider({ maxRetries: 1 }).complete(request()));
    expect(err).toMatchObject({ code: 'unavailable', status: 500, provider: 'openai' });
    expect(err.usage).toEqual({ input_tokens: 0, output_tokens: 0 });
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a timeout when the provider does not answer in time', async () => {
    fake.reply({ delayMs: 3_000, json: { verdict: 'ok', reason: 'too late' } });
    const started = Date.now();
    const err = await failure(provider({ timeoutMs: 300, maxRetries: 0 }).complete(request()));
    expect(err.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('turns a refusal into a typed error without a repair attempt', async () => {
    fake.reply({ refusal: "I can't help with that." });
    const err = await failure(provider().complete(request()));
    expect(err.code).toBe('refusal');
    expect(err.message).toContain("can't help");
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a cut-off answer as truncated', async () => {
    fake.reply({ content: '{"verdict":"ok","rea', finish_reason: 'length' });
    expect((await failure(provider().complete(request()))).code).toBe('truncated');
  });

  it('reports a rejected key without repeating any part of it', async () => {
    const err = await failure(provider({ apiKey: 'sk-wrong-key-abcdefghijklmnop' }).complete(request()));
    expect(err).toMatchObject({ code: 'rejected', status: 401 });
    expect(err.message).not.toMatch(/mnop|sk-w/);
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-wrong-key-abcdefghijklmnop');
  });

  it('sends a non-strict schema when the answer has a free-form part', async () => {
    const loose = z.object({ args: z.record(z.string(), z.unknown()) });
    fake.reply({ json: { args: { a: 1 } } });
    const result = await provider().complete({ ...request(), schema: loose, schemaName: 'loose', stub: () => ({ args: {} }) });
    expect(result.output).toEqual({ args: { a: 1 } });
    expect(fake.requests[0]!.body.response_format!.json_schema!.strict).toBe(false);
  });

  it('prices an unlisted model on a custom endpoint at zero, and counts its tokens', async () => {
    fake.reply({ json: { verdict: 'ok', reason: 'local model' }, usage: { prompt_tokens: 500, completion_tokens: 50 } });
    const result = await provider({ model: 'llama3.1:8b', customEndpoint: true }).complete(request());
    expect(result.usage).toEqual({ input_tokens: 500, output_tokens: 50 });
    expect(result.cost_usd).toBe(0);
  });
});
