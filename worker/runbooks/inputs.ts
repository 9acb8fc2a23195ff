import { didYouMean } from '../yaml/did-you-mean';
import type { Runbook, RunbookInput, SourceError } from './types';

/** What is wrong with `value` for an input of this definition, or undefined when it fits. */
export function checkInputValue(def: Pick<RunbookInput, 'type' | 'enum'>, value: unknown): string | undefined {
  if (!hasType(def.type, value)) return `expected ${article(def.type)}, got ${describe(value)}`;
  if (def.enum && !def.enum.some((allowed) => sameValue(allowed, value))) {
    return `must be one of ${def.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return undefined;
}

export type InputsResult = { ok: true; inputs: Record<string, unknown> } | { ok: false; errors: SourceError[] };

/**
 * The inputs a run starts with: given values checked against their declarations, defaults filled
 * in, required ones enforced and undeclared ones rejected. Errors use the path `inputs.<name>`.
 *
 * Coercion, deliberately narrow: forms, query strings and `--input k=v` flags deliver text, so a
 * numeric string is accepted for a `number`/`integer` input and "true"/"false" for a `boolean`.
 * Nothing else is converted: a number never becomes a string input, and JSON clients that send
 * typed values are unaffected. A null counts as not given, since an absent optional input is
 * absent rather than null (`has(inputs.x)` is false).
 */
export function resolveInputs(runbook: Pick<Runbook, 'spec'>, given: Record<string, unknown>): InputsResult {
  const declared = runbook.spec.inputs;
  const errors: SourceError[] = [];
  const inputs: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) {
      errors.push({ path: `inputs.${name}`, message: `unknown input "${name}"${didYouMean(name, Object.keys(declared))}` });
    }
  }
  for (const [name, def] of Object.entries(declared)) {
    const raw = Object.hasOwn(given, name) ? given[name] : undefined;
    if (raw === undefined || raw === null) {
      if (def.default !== undefined) inputs[name] = structuredClone(def.default);
      else if (def.required) errors.push({ path: `inputs.${name}`, message: `input "${name}" is required` });
      continue;
    }
    const value = coerce(def.type, raw);
    const problem = checkInputValue(def, value);
    if (problem) errors.push({ path: `inputs.${name}`, message: `input "${name}": ${problem}` });
    else inputs[name] = value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, inputs };
}

const NUMERIC = /^-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$/;

function coerce(type: RunbookInput['type'], value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if ((type === 'number' || type === 'integer') && NUMERIC.test(text)) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return value;
}

function hasType(type: RunbookInput['type'], value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Enum members are JSON values; compare them structurally. */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
