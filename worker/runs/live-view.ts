/**
 * The run's live view (DESIGN §5): a hibernatable WebSocket per watcher that gets a snapshot, or
 * the events after `?after=N`, then every event as it is committed. Used by the run's object.
 */
import { runView, type RunEvent, type RunState } from './types';

const PAGE = 500;
const eventMessage = (ev: RunEvent) => JSON.stringify({ type: 'event', seq: ev.seq, event: ev });

/** Sends committed events to every watcher. */
export function broadcast(ctx: DurableObjectState, events: RunEvent[]): void {
  const sockets = ctx.getWebSockets();
  if (sockets.length === 0) return;
  for (const ev of events) {
    const msg = eventMessage(ev);
    for (const ws of sockets) {
      try {
        ws.send(msg);
      } catch {
        // A socket that went away is cleaned up by closeWatcher.
      }
    }
  }
}

/** Upgrades a watcher's request: a snapshot, or what it missed after `?after=N`. */
export async function openLiveView(
  ctx: DurableObjectState,
  request: Request,
  run: RunState | undefined,
  events: (after: number, limit: number) => Promise<RunEvent[]>,
): Promise<Response> {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('Expected a WebSocket upgrade', { status: 426 });
  if (!run) return new Response('Run not found', { status: 404 });
  const afterParam = new URL(request.url).searchParams.get('after');
  const after = afterParam !== null && /^\d+$/.test(afterParam) ? Number(afterParam) : undefined;
  const messages: string[] = [];
  if (after === undefined || after > run.seq) {
    messages.push(JSON.stringify({ type: 'snapshot', seq: run.seq, run: runView(run) }));
  } else {
    for (let from = after; ; ) {
      const missed = await events(from, PAGE);
      for (const ev of missed) messages.push(eventMessage(ev));
      if (missed.length < PAGE) break;
      from = missed[missed.length - 1]!.seq;
    }
  }
  // Accept only after the last read: from here on every commit is broadcast to this socket, and
  // none can slip in between, so the client sees each event exactly once.
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server);
  for (const m of messages) server.send(m);
  return new Response(null, { status: 101, webSocket: client });
}

/** Answers a watcher's message: clients only listen; a ping gets a pong so proxies keep the connection open. */
export function answerWatcher(ws: WebSocket, message: string | ArrayBuffer): void {
  if (message === 'ping') ws.send('pong');
}

/** Completes a watcher's close handshake. */
export function closeWatcher(ws: WebSocket, code: number): void {
  try {
    ws.close(code === 1005 ? 1000 : code, 'closing');
  } catch {
    // Already closed.
  }
}
