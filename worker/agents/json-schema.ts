import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema of what a model must produce. The model's answer is what zod *parses*, so the
 * schema describes zod's input side (`io: 'input'`: defaulted fields optional). Shapes JSON Schema
 * cannot express (refinements, transforms) are left open; zod checks them on the way back.
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/**
 * Keywords kept in a strict schema. OpenAI's strict mode accepts a subset of JSON Schema and
 * rejects the whole request over one keyword it does not know; lengths, patterns, formats and
 * bounds are left to zod (a violation costs one repair round, not a failed call).
 */
const STRICT_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'anyOf', 'description']);

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PRIMITIVE = new Set(['string', 'number', 'integer', 'boolean']);

function nullable(node: JsonSchema): JsonSchema {
  if (PRIMITIVE.has(node.type as string) && node.enum === undefined && node.const === undefined) return { ...node, type: [node.type, 'null'] };
  if (Array.isArray(node.anyOf)) return { ...node, anyOf: [...node.anyOf, { type: 'null' }] };
  const { description, ...rest } = node;
  return { ...(description !== undefined && { description }), anyOf: [rest, { type: 'null' }] };
}

/** One node in strict form, or undefined when it cannot be made strict (free-form values, maps, references). */
function strictNode(node: unknown): JsonSchema | undefined {
  if (!isObject(node)) return undefined;
  if (node.$ref !== undefined || node.allOf !== undefined || node.not !== undefined || node.prefixItems !== undefined) return undefined;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) if (STRICT_KEYWORDS.has(key)) out[key] = value;
  const variants = node.anyOf ?? node.oneOf;
  if (Array.isArray(variants)) {
    const strict = variants.map(strictNode);
    if (strict.some((v) => v === undefined)) return undefined;
    out.anyOf = strict;
  }
  if (out.type === undefined && out.anyOf === undefined && out.enum === undefined && out.const === undefined) return undefined;
  if (out.type === 'object' || (Array.isArray(out.type) && out.type.includes('object'))) {
    const extra = node.additionalProperties;
    if (extra !== undefined && extra !== false) return undefined;
    const props = isObject(node.properties) ? node.properties : {};
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    const strictProps: JsonSchema = {};
    for (const [key, value] of Object.entries(props)) {
      const strict = strictNode(value);
      if (!strict) return undefined;
      // Strict mode wants every property listed as required: an optional one becomes "or null".
      strictProps[key] = required.has(key) ? strict : nullable(strict);
    }
    out.properties = strictProps;
    out.required = Object.keys(strictProps);
    out.additionalProperties = false;
  }
  if (node.items !== undefined) {
    const items = strictNode(node.items);
    if (!items) return undefined;
    out.items = items;
  }
  return out;
}

/**
 * The schema in the form OpenAI's `strict: true` accepts, or `strict: false` with the plain
 * schema when it has a part strict mode cannot express (then the schema is a strong hint and zod
 * remains the check).
 */
export function strictJsonSchema(schema: JsonSchema): { schema: JsonSchema; strict: boolean } {
  const strict = schema.type === 'object' ? strictNode(schema) : undefined;
  return strict ? { schema: strict, strict: true } : { schema, strict: false };
}

/**
 * Removes the `null`s a strict-mode model writes for optional properties it leaves out, guided
 * by the original schema: only properties that schema does not require lose a null value.
 */
export function dropOmittedNulls(schema: unknown, value: unknown): unknown {
  if (!isObject(schema)) return value;
  if (Array.isArray(value)) return isObject(schema.items) ? value.map((v) => dropOmittedNulls(schema.items, v)) : value;
  if (!isObject(value)) return value;
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants)) {
    const match = variants.find((v) => isObject(v) && isObject(v.properties) && Object.keys(value).every((k) => k in (v.properties as JsonSchema)));
    return match ? dropOmittedNulls(match, value) : value;
  }
  if (!isObject(schema.properties)) return value;
  const props = schema.properties;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null && !required.has(key)) continue;
    out[key] = dropOmittedNulls(props[key], v);
  }
  return out;
}
