import type { z } from 'zod';
import type { SourceError } from '../runbooks/types';
import { didYouMean } from './did-you-mean';
import { parseYamlWithLines, type ParsedYaml } from './parse';
import { formatPath, toSourcePath, type SourcePath } from './path';
import { knownKeysAt } from './schema-walk';

export type SchemaResult<T> =
  | { ok: true; value: T; source: ParsedYaml }
  | { ok: false; errors: SourceError[]; source: ParsedYaml };

/**
 * Parses YAML or JSON text and validates it with a zod schema. Every problem comes back as a
 * `SourceError` with the field path and the line to edit, sorted by line. The parsed source is
 * returned either way, so callers can run further checks that point at lines too.
 */
export function validateWithSchema<S extends z.ZodType>(text: string, schema: S): SchemaResult<z.output<S>> {
  const source = parseYamlWithLines(text);
  if (source.errors.length > 0) return { ok: false, errors: source.errors, source };
  const result = schema.safeParse(source.value);
  if (result.success) return { ok: true, value: result.data, source };
  const errors = issuesToSourceErrors(result.error.issues, source, schema);
  return { ok: false, errors: sortByLine(errors), source };
}

/**
 * Maps zod issues to located errors. `prefix` places issues of a sub-schema inside the document
 * (e.g. tool arguments validated under `spec.steps[2].with`). With `schema`, unknown fields get a
 * "did you mean" from the fields the schema accepts at that place.
 */
export function issuesToSourceErrors(
  issues: readonly z.core.$ZodIssue[],
  source: Pick<ParsedYaml, 'value' | 'lineOf'>,
  schema?: z.ZodType,
  prefix: SourcePath = [],
): SourceError[] {
  const errors: SourceError[] = [];
  const at = (path: SourcePath, message: string): void => {
    const full = [...prefix, ...path];
    errors.push({ path: formatPath(full), line: source.lineOf(full), message });
  };
  for (const issue of issues) {
    const path = toSourcePath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, path) : [];
      for (const key of issue.keys) at([...path, key], `unknown field "${key}"${didYouMean(key, known)}`);
    } else if (issue.code === 'invalid_key') {
      const key = path[path.length - 1];
      at(path, `invalid name "${String(key)}": ${issue.issues[0]?.message ?? issue.message}`);
    } else if (issue.code === 'invalid_type' && valueAt(source.value, [...prefix, ...path]) === undefined) {
      at(path, 'required field is missing');
    } else {
      at(path, issue.message);
    }
  }
  return errors;
}

export function sortByLine(errors: SourceError[]): SourceError[] {
  return [...errors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** The plain value at `path`, or undefined where the path leaves the value. */
export function valueAt(value: unknown, path: SourcePath): unknown {
  let current: unknown = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}
