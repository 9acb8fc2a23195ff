import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { strictSchemaError } from '../../test/fakes/openai-server';
import { tools } from '../tools/catalog';
import { dropOmittedNulls, jsonSchemaOf, strictJsonSchema } from './json-schema';
import { wirePlanSchema } from './plan';
import { reviewSchema } from './reviewer';

describe('JSON Schema for structured output', () => {
  it('makes optional properties required-but-nullable for strict mode, and drops keywords strict mode refuses', () => {
    const schema = z.object({ name: z.string().min(2), count: z.number().int().default(1), tags: z.array(z.string()).optional() });
    const { schema: strict, strict: isStrict } = strictJsonSchema(jsonSchemaOf(schema));
    expect(isStrict).toBe(true);
    expect(strict).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string' },
        count: { type: ['integer', 'null'] },
        tags: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
      },
      required: ['name', 'count', 'tags'],
      additionalProperties: false,
    });
    expect(strictSchemaError(strict)).toBeUndefined();
  });

  it('falls back to a non-strict schema for free-form values', () => {
    expect(strictJsonSchema(jsonSchemaOf(z.object({ extra: z.record(z.string(), z.unknown()) }))).strict).toBe(false);
    expect(strictJsonSchema(jsonSchemaOf(z.object({ anything: z.unknown() }))).strict).toBe(false);
  });

  it('gives the agents’ own answers strict schemas the API accepts', () => {
    for (const schema of [wirePlanSchema, reviewSchema]) {
      const out = strictJsonSchema(jsonSchemaOf(schema));
      expect(out.strict).toBe(true);
      expect(strictSchemaError(out.schema)).toBeUndefined();
    }
  });

  it.each(tools.map((t) => [t.id, t] as const))('%s arguments: a strict schema the API accepts', (_id, tool) => {
    const out = strictJsonSchema(jsonSchemaOf(tool.args));
    expect(out.strict).toBe(true);
    expect(strictSchemaError(out.schema)).toBeUndefined();
  });

  it('removes the nulls a strict model writes for omitted optional properties, and only those', () => {
    const schema = jsonSchemaOf(z.object({ a: z.string(), b: z.string().optional(), c: z.string().nullable(), list: z.array(z.object({ x: z.number().optional() })) }));
    expect(dropOmittedNulls(schema, { a: 'x', b: null, c: null, list: [{ x: null }, { x: 2 }] })).toEqual({ a: 'x', c: null, list: [{}, { x: 2 }] });
  });
});
