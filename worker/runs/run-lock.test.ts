import { describe, expect, it } from 'vitest';
import { RunLock, Superseded } from './run-lock';

describe('RunLock', () => {
  it('serialises holders in arrival order', async () => {
    const lock = new RunLock();
    const order: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const a = lock.run(async () => {
      order.push('a start');
      await gate;
      order.push('a end');
    });
    const b = lock.run(async () => void order.push('b'));
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(['a start']);
    open();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  it('lets others in while a holder awaits a call outside, then takes the holder back in turn', async () => {
    const lock = new RunLock();
    const order: string[] = [];
    let answer!: (v: number) => void;
    const call = new Promise<number>((r) => (answer = r));
    const holder = lock.run(async () => {
      order.push('decide');
      const v = await lock.outside(() => call);
      order.push(`apply ${v}`);
    });
    await new Promise((r) => setTimeout(r, 0));
    // A cancel arrives while the call hangs: it gets the lock at once.
    await lock.run(async () => void order.push('cancel'));
    expect(order).toEqual(['decide', 'cancel']);
    answer(7);
    await holder;
    expect(order).toEqual(['decide', 'cancel', 'apply 7']);
  });

  it('a holder that throws releases the lock', async () => {
    const lock = new RunLock();
    await expect(lock.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run(async () => 1)).resolves.toBe(1);
  });

  it('an interruption aborts the fenced call and supersedes what it returns', async () => {
    const lock = new RunLock();
    let seen: AbortSignal | undefined;
    const holder = lock.run(() => lock.fenced(async (signal) => {
      seen = signal;
      await new Promise((r) => setTimeout(r, 5));
      return 1;
    }));
    await new Promise((r) => setTimeout(r, 0));
    await lock.run(async () => lock.interrupt());
    await expect(holder).rejects.toBeInstanceOf(Superseded);
    expect(seen?.aborted).toBe(true);
    // An uninterrupted call returns its value.
    await expect(lock.run(() => lock.fenced(async () => 2))).resolves.toBe(2);
  });
});
