import { z } from 'zod';
import { redact } from '../lib/redact';
import { AgentError } from './errors';
import { dropOmittedNulls, type JsonSchema } from './json-schema';
import { costOf, type Price } from './pricing';
import type { ProviderName, StructuredRequest, StructuredResult, Usage } from './provider';

/** What one request to a provider came back with, in vendor-neutral terms. */
export interface Reply {
  id: string;
  model: string;
  usage: Usage;
  answer:
    | { kind: 'json'; value: unknown }
    /** Text that is not the JSON asked for; `problem` says why, for the repair turn. */
    | { kind: 'text'; text: string; problem: string }
    | { kind: 'refusal'; message: string }
    | { kind: 'truncated' };
  /** The vendor's own form of the answer, for the repair turn (Anthropic echoes its tool_use block). */
  raw?: unknown;
}

/** A provider's side of the loop: how to send a conversation, and how to answer a bad reply. */
export interface Exchange<C> {
  start: C;
  /** Throws `AgentError` for transport failures (after the SDK's own retries). */
  send(conversation: C, signal?: AbortSignal): Promise<Reply>;
  /** The conversation extended with the rejected reply and what was wrong with it. */
  repair(conversation: C, reply: Reply, problem: string): C;
}

export interface Pricing {
  provider: ProviderName;
  price: Price;
}

/** Attempts: the first answer, then at most one repair. A model that cannot fix its answer once rarely does it on a third try. */
const MAX_ATTEMPTS = 2;
const MAX_PROBLEM_CHARS = 2_000;

function addUsage(a: Usage, b: Usage): Usage {
  return { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
}

function check<T>(schema: z.ZodType<T>, json: JsonSchema, value: unknown): { ok: true; value: T } | { ok: false; problem: string } {
  const result = schema.safeParse(dropOmittedNulls(json, value));
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problem: z.prettifyError(result.error).slice(0, MAX_PROBLEM_CHARS) };
}

/**
 * The loop every real provider shares: send, check the answer with the request's zod schema, and
 * on a bad answer send one repair turn that quotes the validation errors. Each request is priced
 * once, here, as it comes back; the call's usage and cost are the sums, never counted twice.
 */
export async function runStructured<T, C>(
  req: StructuredRequest<T>,
  json: JsonSchema,
  pricing: Pricing,
  exchange: Exchange<C>,
): Promise<StructuredResult<T>> {
  const started = Date.now();
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let cost = 0;
  let conversation = exchange.start;
  for (let attempt = 1; ; attempt++) {
    let reply: Reply;
    try {
      reply = await exchange.send(conversation, req.signal);
    } catch (err) {
      const error = err instanceof AgentError ? err : new AgentError('unavailable', String(redact(String(err))), { provider: pricing.provider, cause: err });
      throw error.withSpend(usage, cost);
    }
    usage = addUsage(usage, reply.usage);
    cost = Math.round((cost + costOf(reply.usage, pricing.price)) * 1e8) / 1e8;
    const fail = (code: 'refusal' | 'truncated' | 'invalid_output', message: string) =>
      new AgentError(code, message, { provider: pricing.provider, model: reply.model, usage, cost_usd: cost });
    if (reply.answer.kind === 'refusal') throw fail('refusal', `The model refused: ${reply.answer.message.slice(0, 500)}`);
    if (reply.answer.kind === 'truncated') throw fail('truncated', 'The answer was cut off at the output token limit');
    const checked = reply.answer.kind === 'json' ? check(req.schema, json, reply.answer.value) : { ok: false as const, problem: reply.answer.problem };
    if (checked.ok) {
      return {
        output: checked.value,
        usage,
        cost_usd: cost,
        model: reply.model,
        provider: pricing.provider,
        latency_ms: Date.now() - started,
        raw_id: reply.id,
        attempts: attempt,
      };
    }
    if (attempt >= MAX_ATTEMPTS) throw fail('invalid_output', `The answer failed validation after a repair attempt: ${checked.problem}`);
    conversation = exchange.repair(conversation, reply, checked.problem);
  }
}

/** The user turn that asks for a corrected answer. */
export function repairInstruction(problem: string): string {
  return [
    'Your previous answer was rejected because it does not match the required schema:',
    problem,
    'Answer again with the complete corrected output. Change only what is needed to satisfy the schema.',
  ].join('\n');
}
