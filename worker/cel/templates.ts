import { memberNames } from './ast';
import { compileCel } from './compile';
import { CelError } from './error';
import { evalCel, type CelVars } from './evaluate';

/**
 * `${{ expr }}` templates inside runbook values. The expression ends at the first `}}`, so a CEL
 * map literal with nested braces (`{"a": {"b": 1}}`) cannot appear inside a template; nothing in
 * the runbook format needs one. There is no escape for a literal `${{`.
 */
const OPEN = '${{';
const CLOSE = '}}';

export type TemplatePart = { text: string } | { expr: string };

/** Splits a string into literal text and expressions; throws on an unterminated `${{`. */
export function splitTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let rest = text;
  for (;;) {
    const open = rest.indexOf(OPEN);
    if (open < 0) break;
    const close = rest.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) throw new CelError('unterminated template: "${{" without a closing "}}"', text);
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    parts.push({ expr: rest.slice(open + OPEN.length, close).trim() });
    rest = rest.slice(close + CLOSE.length);
  }
  if (rest !== '') parts.push({ text: rest });
  return parts;
}

export function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(OPEN);
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (isPlainObject(value)) return Object.values(value).some(hasTemplate);
  return false;
}

/**
 * Resolves every template in a JSON value. A string that is exactly one `${{ expr }}` (surrounding
 * whitespace aside) becomes the expression's value with its type (`'${{ inputs.pr }}'` → 42); a
 * template inside longer text is interpolated as text, maps and lists as JSON. Object keys are
 * never templated. Throws `CelError`.
 */
export function resolveTemplates(value: unknown, vars: CelVars): unknown {
  if (typeof value === 'string') return resolveString(value, vars);
  if (Array.isArray(value)) return value.map((item: unknown) => resolveTemplates(item, vars));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) out[key] = resolveTemplates(member, vars);
    return out;
  }
  return value;
}

function resolveString(text: string, vars: CelVars): unknown {
  if (!text.includes(OPEN)) return text;
  const parts = splitTemplate(text.trim());
  const only = parts[0];
  if (parts.length === 1 && only && 'expr' in only) return evalCel(only.expr, vars);
  return splitTemplate(text)
    .map((part) => ('text' in part ? part.text : asText(evalCel(part.expr, vars))))
    .join('');
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface TemplateSite {
  /** Where the string sits inside the value: keys and indices. */
  path: (string | number)[];
  /** The expression, or the whole string when `error` is set. */
  expr: string;
  /** Set when the template is malformed or the expression does not compile. */
  error?: string;
}

/** Every template in a value with its location, compiled, for save-time validation. */
export function templateSites(value: unknown): TemplateSite[] {
  return stringsIn(value, []).flatMap(([path, text]) => {
    let parts: TemplatePart[];
    try {
      parts = splitTemplate(text);
    } catch (err) {
      return [{ path, expr: text, error: err instanceof CelError ? err.detail : String(err) }];
    }
    return expressionsOf(parts).map((expr) => {
      const compiled = compileCel(expr);
      return compiled.ok ? { path, expr } : { path, expr, error: compiled.error };
    });
  });
}

/** The expressions in a value's templates; malformed templates are skipped. */
export function templateExpressions(value: unknown): string[] {
  return stringsIn(value, []).flatMap(([, text]) => {
    try {
      return expressionsOf(splitTemplate(text));
    } catch {
      return [];
    }
  });
}

function expressionsOf(parts: TemplatePart[]): string[] {
  return parts.flatMap((part) => ('expr' in part ? [part.expr] : []));
}

/** Strings that contain a template opener, with their paths. */
function stringsIn(value: unknown, path: (string | number)[]): [(string | number)[], string][] {
  if (typeof value === 'string') return value.includes(OPEN) ? [[path, value]] : [];
  if (Array.isArray(value)) return value.flatMap((item: unknown, i) => stringsIn(item, [...path, i]));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([key, member]) => stringsIn(member, [...path, key]));
  return [];
}

/**
 * Step ids an expression reads through `steps.<id>` or `steps["<id>"]`, found on the syntax tree
 * (so `"steps.x"` inside a string literal and loop variables named `steps` are not mistaken for
 * references). Returns [] for an expression that does not parse.
 */
export function referencedSteps(expr: string): string[] {
  return referencedMembers(expr, 'steps');
}

/** Members of a top-level variable that an expression reads, e.g. `inputs` → `['node']`. */
export function referencedMembers(expr: string, variable: string): string[] {
  const compiled = compileCel(expr);
  return compiled.ok ? memberNames(compiled.program.ast, variable) : [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}
