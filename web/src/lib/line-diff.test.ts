import { describe, expect, it } from 'vitest';
import { lineDiff, withContext } from './line-diff';

describe('line diff', () => {
  it('numbers unchanged, removed and added lines on their own side', () => {
    const rows = lineDiff('a\nb\nc\n', 'a\nB\nc\nd\n');
    expect(rows).toEqual([
      { type: 'same', text: 'a', old: 1, new: 1 },
      { type: 'del', text: 'b', old: 2 },
      { type: 'add', text: 'B', new: 2 },
      { type: 'same', text: 'c', old: 3, new: 3 },
      { type: 'add', text: 'd', new: 4 },
    ]);
  });

  it('keeps a few lines of context and counts the rest', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n');
    const after = before.replace('line 10', 'line ten');
    const view = withContext(lineDiff(before, after), 2);
    expect(view[0]).toEqual({ type: 'skip', count: 7 });
    expect(view.filter((r) => r.type !== 'skip').map((r) => ('text' in r ? r.text : ''))).toEqual(['line 8', 'line 9', 'line 10', 'line ten', 'line 11', 'line 12']);
    expect(view.at(-1)).toEqual({ type: 'skip', count: 8 });
  });

  it('says nothing changed for identical documents', () => {
    expect(withContext(lineDiff('x\ny', 'x\ny'))).toEqual([{ type: 'skip', count: 2 }]);
  });
});
