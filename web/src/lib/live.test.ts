import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveRun, type LiveState } from './live';
import type { Run } from './types';

/** Stands in for the browser's WebSocket: records each socket so a test can play the server. */
class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((event?: { code: number }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  close() {
    this.closed = true;
  }
  send(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const run = (status: Run['status']): Run => ({ id: 'r1', runbook: 'rb', runbook_version: 1, status, mode: 'execute', inputs: {}, context: {}, actor: { type: 'api_key', id: 'key_1' }, created_at: '', cost_usd: 0, tokens: 0, steps: [] });

function start(status: () => Run['status']) {
  const seen: string[] = [];
  const states: LiveState[] = [];
  const live = new LiveRun('r1', {
    onSnapshot: (r) => seen.push(`snapshot:${r.status}`),
    onEvent: (e, seq) => seen.push(`${seq}:${e.type}`),
    onState: (s) => states.push(s),
    shouldReconnect: () => !['succeeded', 'failed', 'denied', 'cancelled'].includes(status()),
    WebSocket: FakeSocket as unknown as typeof WebSocket,
  });
  return { live, seen, states, socket: (i: number) => FakeSocket.all[i]! };
}

const event = (seq: number, type: string) => ({ type: 'event', seq, event: { type, ts: '', run: { status: 'running', cost_usd: 0, tokens: 0 } } });

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
  vi.stubGlobal('location', { protocol: 'https:', host: 'ops.example' });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('LiveRun', () => {
  it('connects on the page origin with wss and applies events once, in order', () => {
    const { seen, socket } = start(() => 'running');
    expect(socket(0).url).toBe('wss://ops.example/api/v1/runs/r1/live?after=0');
    socket(0).onopen?.();
    socket(0).send({ type: 'snapshot', seq: 2, run: run('running') });
    socket(0).send(event(2, 'step.started')); // already in the snapshot
    socket(0).send(event(3, 'step.succeeded'));
    expect(seen).toEqual(['snapshot:running', '3:step.succeeded']);
  });

  it('reconnects after the last seq with a 1s, 2s, 5s, 5s backoff', () => {
    const { states, socket } = start(() => 'running');
    socket(0).send(event(7, 'step.started'));
    for (const [i, wait] of [1000, 2000, 5000, 5000].entries()) {
      socket(i).onclose?.();
      vi.advanceTimersByTime(wait - 1);
      expect(FakeSocket.all).toHaveLength(i + 1);
      vi.advanceTimersByTime(1);
      expect(socket(i + 1).url).toMatch(/\?after=7$/);
    }
    socket(4).onopen?.(); // a working connection resets the backoff
    socket(4).onclose?.();
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(6);
    expect(states.slice(0, 3)).toEqual(['connecting', 'reconnecting', 'reconnecting']);
  });

  it('stays closed once the run has ended, and when stopped', () => {
    let status: Run['status'] = 'running';
    const { states, socket } = start(() => status);
    status = 'succeeded';
    socket(0).onclose?.();
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(states.at(-1)).toBe('closed');

    const other = start(() => 'running');
    other.live.stop();
    expect(other.socket(1).closed).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('reconnects at once when asked (back online), without a second socket while one is open', () => {
    const { live, socket } = start(() => 'running');
    socket(0).send(event(4, 'step.started'));
    socket(0).onclose?.();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(1);
    live.reconnectNow();
    expect(FakeSocket.all).toHaveLength(2);
    expect(socket(1).url).toMatch(/\?after=4$/);
    // The pending backoff timer was dropped: no third socket when it would have fired.
    vi.advanceTimersByTime(5000);
    expect(FakeSocket.all).toHaveLength(2);
    live.reconnectNow();
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('stops when the server ended the socket because the key or session ended (4401): reconnecting would only fail', () => {
    const { states, socket } = start(() => 'running');
    socket(0).onopen?.();
    socket(0).onclose?.({ code: 4401 });
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(states.at(-1)).toBe('closed');
  });
});
