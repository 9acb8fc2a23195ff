import { diffLines } from 'diff';

export interface DiffRow {
  type: 'same' | 'add' | 'del';
  text: string;
  /** Line number in the old document (same and del rows). */
  old?: number;
  /** Line number in the new document (same and add rows). */
  new?: number;
}

/** Two versions of a document as numbered rows: unchanged, removed and added lines. */
export function lineDiff(before: string, after: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    for (const text of lines) {
      if (part.added) rows.push({ type: 'add', text, new: newNo++ });
      else if (part.removed) rows.push({ type: 'del', text, old: oldNo++ });
      else rows.push({ type: 'same', text, old: oldNo++, new: newNo++ });
    }
  }
  return rows;
}

/**
 * The changed rows with `context` unchanged lines around them; longer unchanged stretches become a
 * `skip` marker with the number of lines left out.
 */
export function withContext(rows: DiffRow[], context = 3): (DiffRow | { type: 'skip'; count: number })[] {
  const keep = rows.map(() => false);
  rows.forEach((r, i) => {
    if (r.type === 'same') return;
    for (let j = Math.max(0, i - context); j <= Math.min(rows.length - 1, i + context); j++) keep[j] = true;
  });
  const out: (DiffRow | { type: 'skip'; count: number })[] = [];
  let skipped = 0;
  rows.forEach((r, i) => {
    if (keep[i]) {
      if (skipped) out.push({ type: 'skip', count: skipped });
      skipped = 0;
      out.push(r);
    } else skipped += 1;
  });
  if (skipped) out.push({ type: 'skip', count: skipped });
  return out;
}
