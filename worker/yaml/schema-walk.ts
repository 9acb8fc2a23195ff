import { z } from 'zod';
import type { SourcePath } from './path';

/** Sees through wrappers that do not change the shape of the data (optional, default, pipes …). */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 16; depth++) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodCatch
    ) {
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.def.in as z.ZodType;
    } else {
      break;
    }
  }
  return current;
}

/** The schema that describes the value at `path`, where it can be worked out. */
export function schemaAt(schema: z.ZodType, path: SourcePath): z.ZodType | undefined {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject && typeof segment === 'string') {
      const field: unknown = (current.shape as Record<string, unknown>)[segment];
      current = field instanceof z.ZodType ? unwrap(field) : undefined;
    } else if (current instanceof z.ZodArray && typeof segment === 'number') {
      current = unwrap(current.element as z.ZodType);
    } else if (current instanceof z.ZodRecord) {
      current = unwrap(current.valueType as z.ZodType);
    } else {
      return undefined;
    }
    if (!current) return undefined;
  }
  return current;
}

/** The field names an object schema accepts at `path` (for "did you mean" on unknown fields). */
export function knownKeysAt(schema: z.ZodType, path: SourcePath): string[] {
  const at = schemaAt(schema, path);
  return at instanceof z.ZodObject ? Object.keys(at.shape as Record<string, unknown>) : [];
}
