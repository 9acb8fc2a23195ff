import type { ErrorDetail, RunbookInput } from './types';

/** Form field names: inputs are prefixed so that an input called `mode` cannot clash. */
export const inputField = (name: string) => `input.${name}`;
export const CONTEXT_FIELD = 'context';
export const MODE_FIELD = 'mode';
export const EXPECTED_FIELD = 'expected';

/** What a field shows before the user types: the input's default, as text. */
export function defaultText(spec: RunbookInput): string {
  if (spec.default === undefined || spec.default === null) return '';
  if (spec.type === 'object' || spec.type === 'array') return JSON.stringify(spec.default, null, 2);
  return String(spec.default);
}

type Parsed = { ok: true; value?: unknown } | { ok: false; message: string };

/**
 * Reads the generated inputs from the start-a-run form, each converted to its declared type.
 * An optional field left empty is left out (absent, not null: DESIGN §2); a checkbox always has a
 * value. Problems are keyed by field name, like the server's are after `fieldErrors`.
 */
export function readInputs(specs: Record<string, RunbookInput>, form: FormData) {
  const inputs: Record<string, unknown> = {};
  const errors: Record<string, string[]> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = form.get(inputField(name));
    const parsed = parseInput(spec, typeof raw === 'string' ? raw : null);
    if (!parsed.ok) errors[inputField(name)] = [parsed.message];
    else if (parsed.value !== undefined) inputs[name] = parsed.value;
  }
  return { inputs, errors };
}

function parseInput(spec: RunbookInput, raw: string | null): Parsed {
  // An unchecked checkbox is missing from the form data.
  if (spec.type === 'boolean' && !spec.enum) return { ok: true, value: raw !== null };
  const text = (raw ?? '').trim();
  if (text === '') return spec.required ? { ok: false, message: 'Required' } : { ok: true };
  if (spec.enum) {
    // The select's options are the enum's values as text; send the value itself (3, not "3").
    const value = spec.enum.find((v) => String(v) === text);
    return value === undefined ? { ok: false, message: 'Not one of the allowed values' } : { ok: true, value };
  }
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const value = Number(text);
      if (!Number.isFinite(value)) return { ok: false, message: 'Must be a number' };
      if (spec.type === 'integer' && !Number.isInteger(value)) return { ok: false, message: 'Must be a whole number' };
      return { ok: true, value };
    }
    case 'object':
    case 'array': {
      const value = parseJson(text);
      const isArray = Array.isArray(value);
      const fits = spec.type === 'array' ? isArray : isObject(value) && !isArray;
      return fits ? { ok: true, value } : { ok: false, message: `Must be a JSON ${spec.type}` };
    }
    default:
      return { ok: true, value: raw };
  }
}

/** The context textarea: empty is `{}`, anything else must be a JSON object. */
export function readContext(text: string): { context: Record<string, unknown> } | { error: string } {
  if (text.trim() === '') return { context: {} };
  const value = parseJson(text);
  if (!isObject(value) || Array.isArray(value)) return { error: 'Must be a JSON object, e.g. {"environment": "prod"}' };
  return { context: value as Record<string, unknown> };
}

/**
 * The expected plan of a shadow run: empty is none (the server may compare with a past run), else a
 * JSON array of `{ tool, args? }`.
 */
export function readExpected(text: string): { expected?: { tool: string; args?: Record<string, unknown> }[] } | { error: string } {
  if (text.trim() === '') return {};
  const value = parseJson(text);
  const fits =
    Array.isArray(value) &&
    value.every((s) => isObject(s) && !Array.isArray(s) && typeof (s as { tool?: unknown }).tool === 'string' && ((s as { args?: unknown }).args === undefined || (isObject((s as { args?: unknown }).args) && !Array.isArray((s as { args?: unknown }).args))));
  if (!fits) return { error: 'Must be a JSON array of steps, e.g. [{"tool": "k8s.cordon_node", "args": {"node": "node-7"}}]' };
  return { expected: value as { tool: string; args?: Record<string, unknown> }[] };
}

/**
 * Sorts the server's validation details onto the form's fields (`inputs.node` → the `node` field,
 * `context.*` → the context box); whatever matches no field is returned in `rest`.
 */
export function fieldErrors(details: ErrorDetail[]) {
  const byField: Record<string, string[]> = {};
  const rest: ErrorDetail[] = [];
  for (const detail of details) {
    const field = fieldOf(detail.path);
    if (field) (byField[field] ??= []).push(detail.message);
    else rest.push(detail);
  }
  return { byField, rest };
}

function fieldOf(path: string): string | undefined {
  const input = /^inputs(?:\.([^.[\]]+)|\["([^"]+)"\])/.exec(path);
  if (input) return inputField(input[1] ?? input[2] ?? '');
  if (/^context\b/.test(path)) return CONTEXT_FIELD;
  if (/^expected\b/.test(path)) return EXPECTED_FIELD;
  if (path === 'mode') return MODE_FIELD;
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
