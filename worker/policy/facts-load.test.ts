import { describe, expect, it } from 'vitest';
import { rememberFor } from './facts-load';

describe('rememberFor (how long a run trusts the facts it looked up)', () => {
  it('loads a key once while it is fresh, again once it is older than its age', async () => {
    let clock = 0;
    let loads = 0;
    const once = rememberFor(5_000, () => clock);
    const load = async () => ++loads;
    expect(await Promise.all([once('k', load), once('k', load)])).toEqual([1, 1]);
    clock = 4_999;
    expect(await once('k', load)).toBe(1);
    expect(await once('other', load)).toBe(2);
    clock = 5_000;
    expect(await once('k', load)).toBe(3);
  });

  it('forgets a load that failed: the next ask tries again', async () => {
    const once = rememberFor(Infinity, () => 0);
    await expect(once('k', () => Promise.reject(new Error('D1 is unavailable')))).rejects.toThrow('D1 is unavailable');
    expect(await once('k', async () => 'labels')).toBe('labels');
  });
});
