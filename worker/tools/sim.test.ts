import { describe, expect, it } from 'vitest';
import { fnv1a, memoryWorld, nextCounter, rng, stableJson } from './sim';

describe('sim helpers', () => {
  it('hashes with FNV-1a (reference vectors)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('serialises objects the same whatever the key order', () => {
    expect(stableJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe(stableJson({ a: [{ d: 2 }], b: 1 }));
  });

  it('draws the same sequence from the same seed and stays in range', () => {
    const a = rng('seed', 1);
    const b = rng('seed', 1);
    const draws = Array.from({ length: 100 }, () => a.int(3, 7));
    expect(draws).toEqual(Array.from({ length: 100 }, () => b.int(3, 7)));
    expect(new Set(draws)).toEqual(new Set([3, 4, 5, 6, 7]));
    expect(rng('other').next()).not.toBe(rng('seed', 1).next());
  });

  it('counts up from the base in the world', () => {
    const world = memoryWorld();
    expect([nextCounter(world, 'c', 40), nextCounter(world, 'c', 40)]).toEqual([40, 41]);
    expect(world.snapshot()).toEqual({ c: 41 });
  });
});
