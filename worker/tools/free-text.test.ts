import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tools } from './catalog';
import { MAX_FREE_TEXT } from './define';

const FREE_TEXT = new Set(['body', 'description', 'comment', 'content', 'resolution']);

describe('free-text arguments', () => {
  it(`are capped at ${MAX_FREE_TEXT} characters in every tool, so no argument makes audit redaction unbounded`, () => {
    let checked = 0;
    for (const tool of tools) {
      const shape = (tool.args as z.ZodObject).shape as Record<string, z.ZodType>;
      for (const name of Object.keys(shape).filter((k) => FREE_TEXT.has(k))) {
        const at = (length: number) => (shape[name] as z.ZodType).safeParse('x'.repeat(length)).success;
        expect(at(MAX_FREE_TEXT), `${tool.id}.${name}`).toBe(true);
        expect(at(MAX_FREE_TEXT + 1), `${tool.id}.${name}`).toBe(false);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(9);
  });
});
