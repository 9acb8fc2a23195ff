import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';

/** A commit that records its batches and answers each group with the numbers it was given, doubled. */
function recorder(fail?: (groups: number[][]) => boolean) {
  const batches: number[][][] = [];
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const commit = async (_key: string, groups: number[][]) => {
    batches.push(groups);
    await gate;
    if (fail?.(groups)) throw new Error('refused');
    return groups.map((g) => g.map((n) => n * 2));
  };
  const hold = () => {
    gate = new Promise<void>((r) => (release = r));
  };
  return { batches, commit, hold, release: () => release() };
}

describe('group commit', () => {
  it('commits the requests that arrive during a commit together, and answers each caller with its own result', async () => {
    const r = recorder();
    const g = new GroupCommit(r.commit, 100);
    r.hold();
    const first = g.submit('t', [1]);
    await Promise.resolve(); // its commit has started (and waits on the gate)
    const rest = [g.submit('t', [2, 3]), g.submit('t', []), g.submit('t', [4])];
    r.release();
    expect(await first).toEqual([2]);
    expect(await Promise.all(rest)).toEqual([[4, 6], [], [8]]);
    expect(r.batches).toEqual([[[1]], [[2, 3], [], [4]]]);
  });

  it('bounds a batch by its items, yet commits a request larger than the bound whole and alone', async () => {
    const r = recorder();
    const g = new GroupCommit(r.commit, 3);
    r.hold();
    const all = [g.submit('t', [1]), g.submit('t', [2, 3]), g.submit('t', [4, 5]), g.submit('t', [6, 7, 8, 9]), g.submit('t', [10])];
    r.release();
    await Promise.all(all);
    expect(r.batches).toEqual([[[1], [2, 3]], [[4, 5]], [[6, 7, 8, 9]], [[10]]]);
  });

  it('never puts requests under different keys in one batch', async () => {
    const r = recorder();
    const g = new GroupCommit(r.commit, 100);
    r.hold();
    const all = [g.submit('a', [1]), g.submit('a', [2]), g.submit('b', [3]), g.submit('a', [4])];
    r.release();
    await Promise.all(all);
    expect(r.batches).toEqual([[[1], [2]], [[3]], [[4]]]);
  });

  it('fails only the caller whose request cannot be committed', async () => {
    const r = recorder((groups) => groups.some((g) => g.includes(13)));
    const g = new GroupCommit(r.commit, 100);
    r.hold();
    const first = g.submit('t', [1]);
    const good = g.submit('t', [2]);
    const bad = g.submit('t', [13]);
    const late = g.submit('t', [3]);
    r.release();
    await first;
    await expect(bad).rejects.toThrow('refused');
    expect(await good).toEqual([4]);
    expect(await late).toEqual([6]);
  });

  it('waits for the requests already on their way before it takes a batch', async () => {
    const r = recorder();
    let arrive: () => void = () => {};
    const g = new GroupCommit(r.commit, 100, () => new Promise<void>((resolve) => (arrive = resolve)));
    const first = g.submit('t', [1]);
    const second = g.submit('t', [2]);
    arrive();
    expect(await Promise.all([first, second])).toEqual([[2], [4]]);
    expect(r.batches).toEqual([[[1], [2]]]);
  });

  it('is idle once every request submitted before has been answered', async () => {
    const r = recorder();
    const g = new GroupCommit(r.commit, 100);
    r.hold();
    let answered = 0;
    for (let i = 0; i < 5; i++) void g.submit('t', [i]).then(() => answered++);
    const idle = g.idle();
    r.release();
    await idle;
    expect(answered).toBe(5);
  });
});
