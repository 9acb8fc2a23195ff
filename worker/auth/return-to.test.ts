import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './return-to';

describe('safeReturnTo', () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/', '/'],
    ['/runs/r1?tab=steps#log', '/runs/r1?tab=steps#log'],
    ['/runs/a b', '/runs/a%20b'],
    ['/x/../runs', '/runs'],
  ])('keeps a path on this site: %j → %j', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  it.each(['https://evil.example/', 'http:evil.example', '//evil.example', '///evil.example', '/\\evil.example', '\\\\evil.example', '/\t/evil.example', '/\n/evil.example', 'javascript:alert(1)', 'runs', 'x'.repeat(2001)])(
    'refuses what a browser could read as another origin: %j',
    (input) => {
      expect(safeReturnTo(input)).toBeUndefined();
    },
  );
});
