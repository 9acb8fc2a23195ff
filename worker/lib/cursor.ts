import { and, eq, lt, or, type AnyColumn, type SQL } from 'drizzle-orm';

/**
 * Keyset pagination, newest first, over (created_at, id): a page's cursor names its last row, so
 * rows created in the same millisecond are neither skipped nor repeated across pages. The cursor
 * is `<created_at>|<id>`; a bare `created_at` (the older form) is still accepted.
 */
export function cursorOf(row: { createdAt: string; id: string }): string {
  return `${row.createdAt}|${row.id}`;
}

/** The rows after `cursor` in (created_at desc, id desc) order; pair it with that `orderBy`. */
export function afterCursor(createdAt: AnyColumn, id: AnyColumn, cursor: string): SQL {
  const bar = cursor.indexOf('|');
  if (bar < 0) return lt(createdAt, cursor);
  const at = cursor.slice(0, bar);
  return or(lt(createdAt, at), and(eq(createdAt, at), lt(id, cursor.slice(bar + 1))))!;
}
