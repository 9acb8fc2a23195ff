import { describe, expect, it } from 'vitest';
import { compact, formatDuration, labelEvery, linear, niceTicks, segments } from './charts';

describe('chart scales', () => {
  it('picks round ticks from zero that reach at least the maximum', () => {
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(100)).toEqual([0, 50, 100]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(1)).toEqual([0, 0.5, 1]);
    for (const max of [1, 3, 9, 13, 99, 1234, 0.07]) {
      const ticks = niceTicks(max);
      expect(ticks[0]).toBe(0);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(7);
    }
  });

  it('has a usable axis without data', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });

  it('maps values linearly, SVG y pointing down', () => {
    const y = linear(10, 100, 0);
    expect([y(0), y(5), y(10)]).toEqual([100, 50, 0]);
    expect(linear(0, 100, 0)(0)).toBe(100);
  });

  it('labels at most the given number of positions', () => {
    expect(labelEvery(24, 8)).toBe(3);
    expect(labelEvery(5, 8)).toBe(1);
  });

  it('breaks a line where there is no data instead of drawing zero', () => {
    const parts = segments([1, null, 2, 3, null], (i) => i, (v) => v * 10);
    expect(parts).toEqual([[[0, 10]], [[2, 20], [3, 30]]]);
  });

  it('formats durations and counts for people', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(2 * 3_600_000 + 600_000)).toBe('2 h 10 min');
    expect(compact(950)).toBe('950');
    expect(compact(1200)).toBe('1.2k');
    expect(compact(3_400_000)).toBe('3.4M');
    expect(compact(0.25)).toBe('0.25');
  });
});
