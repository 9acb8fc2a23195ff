import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { PONG, deriveSigningKey, relayMessage, signCancel, signRequest } from '../contract/protocol';
import type { RelayMessage, ResponseMessage, UnsignedRequest } from '../contract/protocol';
import { CLUSTER, TOKEN } from './helpers';

export interface HubConnection {
  ws: WebSocket;
  path: string;
  headers: IncomingHttpHeaders;
  messages: RelayMessage[];
}

/**
 * The hub side of the protocol, as small as a test needs: accepts (or refuses) the relay's
 * upgrade, records what the relay sends, answers pings, and sends signed requests.
 */
export class FakeHub {
  readonly connections: HubConnection[] = [];
  /** When each upgrade request arrived, accepted or not (to measure backoff). */
  readonly attempts: number[] = [];
  /** Status to refuse upgrades with; null accepts them. */
  refuseWith: number | null = null;
  answerPings = true;
  url = '';
  private waiters: (() => void)[] = [];

  private constructor(private readonly wss: WebSocketServer) {}

  static async start(): Promise<FakeHub> {
    let hub: FakeHub | undefined;
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: (_info, cb) => {
        hub!.attempts.push(Date.now());
        if (hub!.refuseWith !== null) cb(false, hub!.refuseWith, 'refused');
        else cb(true);
      },
    });
    hub = new FakeHub(wss);
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    hub.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/v1/clusters/${CLUSTER}/connect`;
    wss.on('connection', (ws, req) => {
      const conn: HubConnection = { ws, path: req.url ?? '', headers: req.headers, messages: [] };
      hub!.connections.push(conn);
      ws.on('message', (data) => {
        const msg = relayMessage.parse(JSON.parse(data.toString()));
        if (msg.type === 'ping' && hub!.answerPings) ws.send(PONG);
        conn.messages.push(msg);
        hub!.notify();
      });
      hub!.notify();
    });
    return hub;
  }

  get latest(): HubConnection {
    const conn = this.connections.at(-1);
    if (!conn) throw new Error('the relay has not connected');
    return conn;
  }

  /** Resolves once `check` holds, re-checked whenever something happens (or fails after `ms`). */
  async until<T>(check: () => T | undefined | false, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error('timed out waiting for the relay');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a signed request on the latest connection and waits for its response. */
  async request(r: Omit<UnsignedRequest, 'type' | 'deadline_ms'> & { deadline_ms?: number }): Promise<ResponseMessage> {
    const conn = this.latest;
    const signed = await signRequest(await deriveSigningKey(TOKEN), CLUSTER, { type: 'request', deadline_ms: Date.now() + 10_000, ...r });
    conn.ws.send(JSON.stringify(signed));
    return this.until(() => this.connections.flatMap((c) => c.messages).find((m): m is ResponseMessage => m.type === 'response' && m.id === r.id));
  }

  /** Sends a signed cancel for request `id` on the latest connection. */
  async cancel(id: string, idempotencyKey: string): Promise<void> {
    const signed = await signCancel(await deriveSigningKey(TOKEN), CLUSTER, { type: 'cancel', id, idempotency_key: idempotencyKey });
    this.latest.ws.send(JSON.stringify(signed));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
