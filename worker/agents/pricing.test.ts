import { describe, expect, it } from 'vitest';
import { costOf, priceFor, VENDOR_PRICES } from './pricing';

describe('prices', () => {
  it('prices listed models and their dated snapshots from the table', () => {
    expect(priceFor('openai', 'gpt-4o-mini')).toEqual({ price: { input: 0.15, output: 0.6 }, source: 'table' });
    expect(priceFor('openai', 'gpt-4o-2024-08-06').price).toEqual(VENDOR_PRICES.openai['gpt-4o']);
    expect(priceFor('anthropic', 'claude-sonnet-4-5-20250929').price).toEqual({ input: 3, output: 15 });
    expect(priceFor('anthropic', 'claude-3-5-haiku-latest').price).toEqual({ input: 0.8, output: 4 });
  });

  it('does not price a different model as its shorter namesake', () => {
    expect(priceFor('openai', 'o3-pro').price).toEqual({ input: 20, output: 80 });
    expect(priceFor('openai', 'gpt-4o-mini-2024-07-18').price).toEqual({ input: 0.15, output: 0.6 });
    expect(priceFor('openai', 'gpt-4o-audio-preview').source).toBe('vendor_fallback');
  });

  it('charges an unknown model on the vendor API as its most expensive listed model', () => {
    const quote = priceFor('anthropic', 'claude-future-9');
    expect(quote.source).toBe('vendor_fallback');
    expect(quote.price).toEqual({ input: 15, output: 75 });
  });

  it('charges nothing for an unknown model on a custom endpoint unless configured', () => {
    expect(priceFor('openai', 'llama3.1:8b', { customEndpoint: true })).toEqual({ price: { input: 0, output: 0 }, source: 'unpriced' });
    expect(priceFor('openai', 'llama3.1:8b', { customEndpoint: true, configured: { 'llama3.1:8b': { input: 0.1, output: 0.2 } } })).toEqual({
      price: { input: 0.1, output: 0.2 },
      source: 'configured',
    });
    expect(priceFor('openai', 'gpt-4.1', { customEndpoint: true }).source).toBe('table'); // a gateway in front of OpenAI
  });

  it('lets configuration override the table', () => {
    expect(priceFor('openai', 'gpt-4.1', { configured: { 'gpt-4.1': { input: 1, output: 4 } } }).price).toEqual({ input: 1, output: 4 });
  });

  it('computes cost from tokens, and calls add up exactly', () => {
    const price = { input: 3, output: 15 };
    expect(costOf({ input_tokens: 1_000_000, output_tokens: 0 }, price)).toBe(3);
    expect(costOf({ input_tokens: 1_234, output_tokens: 567 }, price)).toBeCloseTo((1_234 * 3 + 567 * 15) / 1e6, 10);
    const calls = [
      { input_tokens: 1_000, output_tokens: 100 },
      { input_tokens: 2_000, output_tokens: 300 },
    ];
    const separately = calls.reduce((sum, u) => sum + costOf(u, price), 0);
    expect(separately).toBeCloseTo(costOf({ input_tokens: 3_000, output_tokens: 400 }, price), 10);
  });

  it('bills a long prompt at the long-prompt rate, per request', () => {
    const haiku = priceFor('anthropic', 'claude-haiku-5-5').price;
    expect(costOf({ input_tokens: 100_000, output_tokens: 1_000 }, haiku)).toBeCloseTo((100_000 * 0.1 + 1_000 * 0.5) / 1e6, 10);
    expect(costOf({ input_tokens: 100_001, output_tokens: 1_000 }, haiku)).toBeCloseTo((100_001 * 0.5 + 1_000 * 2.5) / 1e6, 10);
  });
});
