/** A location inside a parsed document: mapping keys and sequence indices, outermost first. */
export type SourcePath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Formats a path the way error messages show it: `spec.steps[2].tool`. Keys that are not plain
 * identifiers are quoted (`metadata.labels["app.kubernetes.io/name"]`) so the path stays unambiguous.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && PLAIN_KEY.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** Narrows zod's `PropertyKey[]` (symbols never occur in parsed YAML) to a source path. */
export function toSourcePath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}
