// The committed API types are what the generator makes of the Worker's current OpenAPI document.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generate, toTs } from './openapi-to-ts.mjs';

const run = promisify(execFile);

describe('openapi-to-ts', () => {
  it('turns JSON Schema into TypeScript: refs, nullable, enums, records, arrays and optional fields', () => {
    expect(toTs({ $ref: '#/components/schemas/Run' })).toBe('Schemas["Run"]');
    expect(toTs({ type: ['string', 'null'] })).toBe('string | null');
    expect(toTs({ type: 'string', enum: ['a', 'b'] })).toBe('"a" | "b"');
    expect(toTs({ type: 'object', additionalProperties: {} })).toBe('Record<string, unknown>');
    expect(toTs({ type: 'array', items: { type: 'integer' } })).toBe('number[]');
    expect(toTs({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } })).toBe('Array<string | number>');
    expect(toTs({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'number', description: 'B' } }, required: ['a'] })).toBe(
      '{\n  a: string;\n  /** B */\n  b?: number;\n}',
    );
  });

  it('describes each operation by method and path, with parameters, body and the success response', () => {
    const text = generate({
      paths: {
        '/runs/{id}': {
          get: {
            summary: 'Get a run',
            parameters: [
              { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'limit', in: 'query', required: true, schema: { type: 'number', default: 50 } },
            ],
            responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Run' } } } }, 404: {} },
          },
        },
      },
      components: { schemas: { Run: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
    });
    expect(text).toContain('"GET /runs/{id}": {');
    expect(text).toContain('      id: string;');
    // A query parameter with a default may be left out.
    expect(text).toContain('      limit?: number;');
    expect(text).toContain('    response: Schemas["Run"];');
  });

  it('leaves out a schema that extends itself (two schemas with one name) instead of writing a circular type', () => {
    const text = generate({ paths: {}, components: { schemas: { Key: { allOf: [{ $ref: '#/components/schemas/Key' }, { type: 'object', properties: { x: { type: 'string' } } }] } } } });
    expect(text).not.toContain('Key: Schemas["Key"]');
    expect(text).toContain('x?: string;');
  });

  it('the committed web/src/lib/api-types.ts matches the Worker\'s document', { timeout: 60_000 }, async () => {
    const { stdout } = await run(process.execPath, ['scripts/gen-api-types.mjs', '--check'], { cwd: new URL('..', import.meta.url).pathname });
    expect(stdout).toContain('is up to date');
  });
});
