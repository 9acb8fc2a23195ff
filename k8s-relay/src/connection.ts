import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { ZodError } from 'zod';
import type { Logger } from './log';
import { CLOSE_CODES, PING, PONG, PROTOCOL_HEADER, PROTOCOL_VERSION, hubMessage } from '../contract/protocol';
import type { CancelMessage, HealthMessage, HelloMessage, RelayMessage, RequestMessage, ResponseMessage } from '../contract/protocol';

export interface HubConnectionOptions {
  url: string;
  token: string;
  log: Logger;
  hello(): HelloMessage;
  health(): HealthMessage;
  onRequest(req: RequestMessage): Promise<ResponseMessage>;
  /** The hub gave up on a request; its response (`cancelled`) comes from `onRequest`'s promise. */
  onCancel(msg: CancelMessage): Promise<void>;
  /** The answer to a frame that is not a valid message, if it can have one. */
  onInvalid(raw: unknown, error: ZodError): ResponseMessage | null;
  heartbeatMs: number;
  healthIntervalMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  random?: () => number;
  onStateChange?(connected: boolean): void;
}

/** Largest frame the relay accepts from the hub: requests are small. */
const MAX_INBOUND_BYTES = 1024 * 1024;

/**
 * Exponential backoff with "equal jitter": half of each step is fixed and half random, so a fleet
 * of relays that lost the hub together spreads out, and none retries sooner than half a step.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * The relay's outbound WebSocket to the hub: dials with the cluster token, says hello, answers
 * requests, pings on a heartbeat (a silent hub counts as gone after two missed beats), reports
 * health, and reconnects with backoff until stopped.
 */
export class HubConnection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private accepting = true;
  private lastSeen = 0;
  private openedAt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  /** Connections opened so far (reported in logs, read by tests). */
  opened = 0;
  connected = false;

  constructor(private readonly opts: HubConnectionOptions) {}

  start(): void {
    this.connect();
  }

  /** Stops taking new requests; requests already running still answer if the socket is open. */
  quiesce(): void {
    this.accepting = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.close(CLOSE_CODES.going_away, 'relay shutting down');
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    ws.terminate();
  }

  /** Sends a health report now (readiness changed). */
  sendHealth(): void {
    this.send(this.opts.health());
  }

  private connect(): void {
    const { url, token, log } = this.opts;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
      handshakeTimeout: 10_000,
      maxPayload: MAX_INBOUND_BYTES,
    });
    this.ws = ws;
    ws.on('open', () => {
      this.opened += 1;
      this.connected = true;
      this.openedAt = this.lastSeen = Date.now();
      log.info('connected to the hub', { url, connection: this.opened });
      this.send(this.opts.hello());
      this.send(this.opts.health());
      this.beatTimer = setInterval(() => this.beat(ws), this.opts.heartbeatMs);
      this.healthTimer = setInterval(() => this.sendHealth(), this.opts.healthIntervalMs);
      this.opts.onStateChange?.(true);
    });
    ws.on('message', (data, isBinary) => {
      this.lastSeen = Date.now();
      if (!isBinary) this.receive(ws, data);
    });
    // The message of a refused upgrade names the status ("Unexpected server response: 401").
    ws.on('error', (err) => log.warn('hub connection error', { url, error: err.message }));
    ws.on('close', (code, reason) => {
      clearInterval(this.beatTimer);
      clearInterval(this.healthTimer);
      const wasOpen = this.connected;
      this.connected = false;
      if (this.ws === ws) this.ws = null;
      if (wasOpen) this.opts.onStateChange?.(false);
      if (this.stopped) return;
      // A connection that held for a while resets the backoff; one the hub drops at once does not.
      if (wasOpen && Date.now() - this.openedAt >= 2 * this.opts.heartbeatMs) this.attempt = 0;
      const delay = backoffDelay(this.attempt++, this.opts.reconnectMinMs, this.opts.reconnectMaxMs, this.opts.random);
      const level = code === CLOSE_CODES.unauthorized ? 'error' : 'warn';
      log[level]('hub connection closed; reconnecting', { code, reason: reason.toString().slice(0, 200), retry_in_ms: delay });
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private beat(ws: WebSocket): void {
    if (Date.now() - this.lastSeen > 2 * this.opts.heartbeatMs) {
      this.opts.log.warn('the hub stopped answering; reconnecting', { silent_ms: Date.now() - this.lastSeen });
      ws.terminate();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) ws.send(PING);
  }

  private receive(ws: WebSocket, data: RawData): void {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      this.opts.log.warn('ignored a frame that is not JSON', { bytes: data.toString().length });
      return;
    }
    const parsed = hubMessage.safeParse(raw);
    if (!parsed.success) {
      const answer = this.opts.onInvalid(raw, parsed.error);
      if (answer) this.send(answer);
      else this.opts.log.warn('ignored an invalid frame', { type: (raw as { type?: unknown })?.type });
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'ping') ws.send(PONG);
    // Even while shutting down: a cancel only ever stops work.
    if (msg.type === 'cancel') {
      this.opts.onCancel(msg).catch((err: unknown) => this.opts.log.error('cancel handler failed', { id: msg.id, error: String(err) }));
      return;
    }
    if (msg.type !== 'request') return;
    if (!this.accepting) {
      // Unanswered, the hub re-sends it to the next relay connection.
      this.opts.log.info('not taking a request while shutting down', { id: msg.id });
      return;
    }
    this.opts.onRequest(msg).then(
      (response) => {
        // Answer on whichever connection is open now: after a reconnect that is a newer one.
        if (!this.send(response)) this.opts.log.warn('response not delivered (hub disconnected); the hub re-sends the request after reconnecting', { id: msg.id });
      },
      // The executor answers every failure itself; this is a bug, kept from killing the process.
      (err: unknown) => this.opts.log.error('request handler failed', { id: msg.id, error: String(err) }),
    );
  }

  private send(msg: RelayMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }
}
