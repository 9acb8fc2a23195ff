import type { LiveMessage, Run, RunEvent } from './types';

/** connecting → live ⇄ reconnecting → closed (stopped, or the run ended and the server hung up). */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface LiveOptions {
  /** The whole run: the first message after every (re)connect. */
  onSnapshot(run: Run): void;
  /** Each change, in order and at most once, with its sequence number. */
  onEvent(event: RunEvent, seq: number): void;
  onState?(state: LiveState): void;
  /** Asked when the socket closes; false (the run has ended) stops reconnecting. */
  shouldReconnect(): boolean;
  /** The last sequence number already seen; the server replays the events after it. */
  after?: number;
  /** Injected by tests; the browser's WebSocket otherwise. */
  WebSocket?: typeof WebSocket;
}

/** The close code of a socket whose key or session ended (worker/runs/live-view.ts). */
export const SIGNED_OUT = 4401;

/** Waits between reconnects: 1s, 2s, then 5s for as long as it takes. */
export const BACKOFF_MS = [1000, 2000, 5000] as const;

/** The live view of one run (DESIGN §5): a WebSocket that resumes after `lastSeq` when it drops. */
export class LiveRun {
  #socket: WebSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #stopped = false;
  #lastSeq: number;
  readonly #runId: string;
  readonly #options: LiveOptions;

  constructor(runId: string, options: LiveOptions) {
    this.#runId = runId;
    this.#options = options;
    this.#lastSeq = options.after ?? 0;
    options.onState?.('connecting');
    this.#connect();
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Skips the rest of the backoff (the browser is back online, or the tab visible again): a socket
   * that is waiting to reconnect connects now. A live socket is left alone.
   */
  reconnectNow(): void {
    if (this.#stopped || this.#socket || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#connect();
  }

  /** Closes the socket for good (leaving the page, or showing another run). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#socket) {
      this.#socket.onclose = null;
      this.#socket.close(1000);
    }
    this.#options.onState?.('closed');
  }

  #connect(): void {
    const Impl = this.#options.WebSocket ?? WebSocket;
    const socket = new Impl(liveUrl(this.#runId, this.#lastSeq));
    this.#socket = socket;
    socket.onopen = () => {
      this.#failures = 0;
      this.#options.onState?.('live');
    };
    socket.onmessage = (message) => this.#receive(message.data);
    socket.onclose = (event?: CloseEvent) => this.#closed(event?.code);
  }

  #receive(data: unknown): void {
    let message: LiveMessage;
    try {
      message = JSON.parse(String(data)) as LiveMessage;
    } catch {
      return; // Not ours to interpret; the next snapshot resynchronises anyway.
    }
    if (message.type === 'snapshot') {
      if (typeof message.seq === 'number') this.#lastSeq = message.seq;
      this.#options.onSnapshot(message.run);
    } else if (message.type === 'event') {
      // A replay after reconnecting may overlap what the snapshot already contains.
      if (message.seq <= this.#lastSeq) return;
      this.#lastSeq = message.seq;
      this.#options.onEvent(message.event, message.seq);
    }
  }

  #closed(code?: number): void {
    this.#socket = undefined;
    if (this.#stopped) return;
    // The server ended the socket because the key or session that opened it ended: retrying fails.
    if (code === SIGNED_OUT || !this.#options.shouldReconnect()) {
      this.#options.onState?.('closed');
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.#failures, BACKOFF_MS.length - 1)];
    this.#failures += 1;
    this.#options.onState?.('reconnecting');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, delay);
  }
}

/** Same origin as the page, so the session cookie authenticates the upgrade. */
export function liveUrl(runId: string, after: number): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/v1/runs/${encodeURIComponent(runId)}/live?after=${after}`;
}
