import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { CHECK_DELAY_MS, LiveCheck, markedLines, toCheckState, type CheckState } from './live-check';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('LiveCheck', () => {
  it('checks once typing pauses, with the latest text only', async () => {
    const seen: string[] = [];
    const states: CheckState[] = [];
    const live = new LiveCheck(async (text) => (seen.push(text), { warnings: [] }), (s) => states.push(s));
    live.update('a');
    live.update('ab');
    vi.advanceTimersByTime(CHECK_DELAY_MS - 1);
    expect(seen).toEqual([]);
    live.update('abc');
    await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS);
    expect(seen).toEqual(['abc']);
    expect(states.map((s) => s.state)).toEqual(['checking', 'ok']);
  });

  it('drops a slow answer for text that has changed since', async () => {
    let release: (v: { warnings: [] }) => void = () => undefined;
    const states: CheckState[] = [];
    const calls: string[] = [];
    const live = new LiveCheck(
      (text) => {
        calls.push(text);
        return text === 'old' ? new Promise((r) => (release = r)) : Promise.reject(new ApiError(400, 'validation_failed', 'bad', [{ path: 'spec', message: 'no', line: 3 }]));
      },
      (s) => states.push(s),
    );
    live.update('old');
    await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS);
    live.update('new');
    await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS);
    release({ warnings: [] });
    await vi.runAllTimersAsync();
    expect(calls).toEqual(['old', 'new']);
    expect(states.at(-1)).toEqual({ state: 'invalid', message: 'bad', problems: [{ path: 'spec', message: 'no', line: 3 }] });
    expect(states.filter((s) => s.state === 'ok')).toEqual([]);
  });

  it('stops asking a server that has no validate endpoint', async () => {
    let calls = 0;
    const states: CheckState[] = [];
    const live = new LiveCheck(() => (calls++, Promise.reject(new ApiError(404, 'not_found', 'No such API route'))), (s) => states.push(s));
    live.update('x');
    await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS);
    live.update('y');
    await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS);
    expect(calls).toBe(1);
    expect(states.at(-1)).toEqual({ state: 'unavailable' });
  });
});

describe('check states and marked lines', () => {
  it('tells a 400 (the document) from a missing route and from other failures', () => {
    expect(toCheckState(new ApiError(404, 'not_found', 'No route for POST /api/v1/runbooks/validate'))).toEqual({ state: 'unavailable' });
    expect(toCheckState(new ApiError(404, 'not_found', 'Runbook not found')).state).toBe('error');
    expect(toCheckState(new ApiError(0, 'network', 'offline'))).toEqual({ state: 'error', message: 'offline' });
  });

  it('groups problems by line, leaving out those without one', () => {
    const lines = markedLines([
      { path: 'a', message: 'x', line: 2 },
      { path: 'b', message: 'y', line: 2 },
      { path: 'c', message: 'z' },
    ]);
    expect([...lines.entries()]).toEqual([[2, ['a: x', 'b: y']]]);
  });
});
