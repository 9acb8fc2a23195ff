import type { Usage } from './provider';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Some models bill a request whose prompt is longer than `above_input_tokens` at other rates, on all its tokens. */
  long_prompt?: { above_input_tokens: number; input: number; output: number };
}

export type PriceTable = Readonly<Record<string, Price>>;

/**
 * List prices of the vendors' models (standard tier, no batch or cache discounts) in USD per
 * million tokens, from the vendors' pricing pages as of October 2026. Vendors change these:
 * `LLM_PRICES` overrides or extends the table without a deploy.
 */
export const VENDOR_PRICES: Readonly<Record<'openai' | 'anthropic', PriceTable>> = {
  openai: {
    'gpt-5.6-sol': { input: 5, output: 30 },
    'gpt-5.6-terra': { input: 2.5, output: 15 },
    'gpt-5.6-luna': { input: 1, output: 6 },
    'gpt-5.4': { input: 2.5, output: 15 },
    'gpt-5.1': { input: 1.25, output: 10 },
    'gpt-5': { input: 1.25, output: 10 },
    'gpt-5-mini': { input: 0.25, output: 2 },
    'gpt-5-nano': { input: 0.05, output: 0.4 },
    'gpt-5-pro': { input: 15, output: 120 },
    'gpt-4.1': { input: 2, output: 8 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4 },
    'gpt-4o': { input: 2.5, output: 10 },
    'gpt-4o-mini': { input: 0.15, output: 0.6 },
    o3: { input: 2, output: 8 },
    'o3-pro': { input: 20, output: 80 },
    'o3-mini': { input: 1.1, output: 4.4 },
    'o4-mini': { input: 1.1, output: 4.4 },
  },
  anthropic: {
    'claude-fable-5-1': { input: 10, output: 50 },
    'claude-fable-5': { input: 10, output: 50 },
    'claude-mythos-5-1': { input: 10, output: 50 },
    'claude-mythos-5': { input: 10, output: 50 },
    'claude-opus-5-5': { input: 4, output: 20 },
    'claude-opus-5': { input: 5, output: 25 },
    'claude-opus-4-8': { input: 5, output: 25 },
    'claude-opus-4-7': { input: 5, output: 25 },
    'claude-opus-4-6': { input: 5, output: 25 },
    'claude-opus-4-5': { input: 5, output: 25 },
    'claude-opus-4-1': { input: 15, output: 75 },
    'claude-opus-4-0': { input: 15, output: 75 },
    'claude-opus-4': { input: 15, output: 75 },
    'claude-sonnet-5-5': { input: 2, output: 10 },
    'claude-sonnet-5': { input: 2, output: 10 },
    'claude-sonnet-4-6': { input: 3, output: 15 },
    'claude-sonnet-4-5': { input: 3, output: 15 },
    'claude-sonnet-4-0': { input: 3, output: 15 },
    'claude-sonnet-4': { input: 3, output: 15 },
    'claude-3-7-sonnet': { input: 3, output: 15 },
    'claude-haiku-5-5': { input: 0.1, output: 0.5, long_prompt: { above_input_tokens: 100_000, input: 0.5, output: 2.5 } },
    'claude-haiku-4-5': { input: 1, output: 5 },
    'claude-3-5-haiku': { input: 0.8, output: 4 },
    'claude-3-haiku': { input: 0.25, output: 1.25 },
  },
};

/**
 * Where a price came from:
 * - `configured`: `LLM_PRICES`;
 * - `table`: the vendor table above;
 * - `vendor_fallback`: a model the table does not know, on the vendor's own API, is charged as the
 *   vendor's most expensive listed model, so a missing row can never let a run slip past its budget;
 * - `unpriced`: a model the table does not know on another endpoint (a local or self-hosted
 *   OpenAI-compatible server) costs nothing unless `LLM_PRICES` names it. Its tokens still count.
 */
export type PriceSource = 'configured' | 'table' | 'vendor_fallback' | 'unpriced';

export interface PriceQuote {
  price: Price;
  source: PriceSource;
}

/** A dated snapshot (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) or `-latest` is priced as its base model. */
const SNAPSHOT = /^-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

function lookup(table: PriceTable, model: string): Price | undefined {
  const exact = table[model];
  if (exact) return exact;
  // Only a date suffix may follow a known id: `o3-pro` must not be priced as `o3`.
  for (const [id, price] of Object.entries(table)) {
    if (model.startsWith(id) && SNAPSHOT.test(model.slice(id.length))) return price;
  }
  return undefined;
}

function mostExpensive(table: PriceTable): Price {
  const rates = Object.values(table).flatMap((p) => (p.long_prompt ? [p, p.long_prompt] : [p]));
  return { input: Math.max(...rates.map((p) => p.input)), output: Math.max(...rates.map((p) => p.output)) };
}

export function priceFor(
  vendor: 'openai' | 'anthropic',
  model: string,
  opts: { configured?: PriceTable; customEndpoint?: boolean } = {},
): PriceQuote {
  const configured = opts.configured && lookup(opts.configured, model);
  if (configured) return { price: configured, source: 'configured' };
  const listed = lookup(VENDOR_PRICES[vendor], model);
  if (listed) return { price: listed, source: 'table' };
  if (opts.customEndpoint) return { price: { input: 0, output: 0 }, source: 'unpriced' };
  return { price: mostExpensive(VENDOR_PRICES[vendor]), source: 'vendor_fallback' };
}

/**
 * Cost of one request, rounded to a millionth of a cent so that sums of many requests stay exact
 * enough to compare. Price each request on its own: a long-prompt rate applies per request.
 */
export function costOf(usage: Usage, price: Price): number {
  const rate = price.long_prompt && usage.input_tokens > price.long_prompt.above_input_tokens ? price.long_prompt : price;
  const usd = (usage.input_tokens * rate.input + usage.output_tokens * rate.output) / 1_000_000;
  return Math.round(usd * 1e8) / 1e8;
}
