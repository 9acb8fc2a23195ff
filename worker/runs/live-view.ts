/**
 * The run's live view (DESIGN §5): a hibernatable WebSocket per watcher that gets a snapshot, or
 * the events after `?after=N`, then every event as it is committed. Used by the run's object.
 *
 * A socket outlives the request that opened it, so it remembers the credential it was opened with
 * (the Worker names it in WATCHER_HEADER, after authenticating): a session's socket closes when the
 * session expires, and every RECHECK_MS at most, when events flow or the client pings, the
 * credentials are checked again and a revoked key or a signed-out session loses its sockets.
 */
import { errorBody } from '../lib/errors';
import { runView, type RunEvent, type RunState } from './types';

const PAGE = 500;
const eventMessage = (ev: RunEvent) => JSON.stringify({ type: 'event', seq: ev.seq, event: ev });

/** Set by the Worker (never the client: it overwrites it) on the upgrade it forwards. */
export const WATCHER_HEADER = 'x-agentrunbook-watcher';
/** How stale a socket's credential check may get while events flow. */
export const RECHECK_MS = 10_000;
/** Sockets per run, and per credential on one run: enough for every tab, not for a flood. */
export const MAX_WATCHERS = 200;
export const MAX_WATCHERS_PER_CREDENTIAL = 8;
/** The close code of a socket whose credential ended (the UI stops reconnecting on it). */
export const CLOSE_SIGNED_OUT = 4401;

/** Who opened a socket, kept with it (it survives hibernation). */
export interface Watcher {
  tenant: string;
  /** `key:<id>` or `session:<id>` (auth/credential-standing.ts). */
  cred: string;
  /** A session's end (ms). */
  expires_at?: number;
  checked_at: number;
}

/** The credentials of `tenant` among `creds` that still stand. */
export type StandingCheck = (tenant: string, creds: string[]) => Promise<Set<string>>;

interface Host {
  ctx: DurableObjectState;
  check: StandingCheck;
  now?: number;
}

function watcherOf(ws: WebSocket): Watcher | undefined {
  try {
    return (ws.deserializeAttachment() as Watcher | null) ?? undefined;
  } catch {
    return undefined;
  }
}

function signOff(ws: WebSocket, why: string): void {
  try {
    ws.close(CLOSE_SIGNED_OUT, why);
  } catch {
    // Already closed.
  }
}

/**
 * The sockets that may still receive: those of an ended session are closed now; those whose check
 * is due are checked in the background (they get this event; a revoked one is closed after it).
 */
function standingSockets(host: Host, sockets: WebSocket[]): WebSocket[] {
  const now = host.now ?? Date.now();
  const live: WebSocket[] = [];
  const due = new Map<string, WebSocket[]>();
  for (const ws of sockets) {
    const w = watcherOf(ws);
    if (!w) {
      signOff(ws, 'Unknown watcher; connect again');
      continue;
    }
    if (w.expires_at !== undefined && now >= w.expires_at) {
      signOff(ws, 'Session expired; sign in again');
      continue;
    }
    live.push(ws);
    if (now - w.checked_at >= RECHECK_MS) {
      ws.serializeAttachment({ ...w, checked_at: now } satisfies Watcher);
      const key = `${w.tenant}\n${w.cred}`;
      due.set(key, [...(due.get(key) ?? []), ws]);
    }
  }
  if (due.size > 0) host.ctx.waitUntil(recheck(host, due));
  return live;
}

async function recheck(host: Host, due: Map<string, WebSocket[]>): Promise<void> {
  const byTenant = new Map<string, string[]>();
  for (const key of due.keys()) {
    const [tenant, cred] = key.split('\n') as [string, string];
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), cred]);
  }
  for (const [tenant, creds] of byTenant) {
    let stand: Set<string>;
    try {
      stand = await host.check(tenant, creds);
    } catch {
      // Unknown is not standing: the client reconnects, and the Worker decides again.
      stand = new Set();
    }
    for (const cred of creds) {
      if (!stand.has(cred)) for (const ws of due.get(`${tenant}\n${cred}`) ?? []) signOff(ws, 'Credential revoked or signed out; sign in again');
    }
  }
}

/** Sends committed events to every watcher whose credential still stands. */
export function broadcast(host: Host, events: RunEvent[]): void {
  const all = host.ctx.getWebSockets();
  if (all.length === 0) return;
  const sockets = standingSockets(host, all);
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

function refuse(status: number, code: 'rate_limited' | 'bad_request' | 'not_found', message: string): Response {
  return Response.json(errorBody(code, message, 'live'), { status });
}

/** Upgrades a watcher's request: a snapshot, or what it missed after `?after=N`. */
export async function openLiveView(
  host: Host,
  request: Request,
  run: RunState | undefined,
  events: (after: number, limit: number) => Promise<RunEvent[]>,
): Promise<Response> {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('Expected a WebSocket upgrade', { status: 426 });
  if (!run) return refuse(404, 'not_found', 'Run not found');
  let who: Pick<Watcher, 'cred' | 'expires_at'>;
  try {
    who = JSON.parse(request.headers.get(WATCHER_HEADER) ?? '') as Pick<Watcher, 'cred' | 'expires_at'>;
    if (typeof who.cred !== 'string') throw new Error('no credential');
  } catch {
    return refuse(400, 'bad_request', 'The live view is opened through the API');
  }
  const { ctx } = host;
  if (ctx.getWebSockets().length >= MAX_WATCHERS) return refuse(429, 'rate_limited', `This run already has ${MAX_WATCHERS} watchers`);
  if (ctx.getWebSockets(who.cred).length >= MAX_WATCHERS_PER_CREDENTIAL) {
    return refuse(429, 'rate_limited', `This credential already watches this run on ${MAX_WATCHERS_PER_CREDENTIAL} sockets; close one`);
  }
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
  ctx.acceptWebSocket(server, [who.cred]);
  server.serializeAttachment({ tenant: run.tenantId, cred: who.cred, ...(who.expires_at !== undefined ? { expires_at: who.expires_at } : {}), checked_at: host.now ?? Date.now() } satisfies Watcher);
  for (const m of messages) server.send(m);
  return new Response(null, { status: 101, webSocket: client });
}

/** Answers a watcher's message: clients only listen; a ping gets a pong (if the watcher still stands) so proxies keep the connection open. */
export function answerWatcher(host: Host, ws: WebSocket, message: string | ArrayBuffer): void {
  if (message !== 'ping') return;
  if (standingSockets(host, [ws]).length === 1) ws.send('pong');
}

/** Completes a watcher's close handshake. */
export function closeWatcher(ws: WebSocket, code: number): void {
  try {
    ws.close(code === 1005 ? 1000 : code, 'closing');
  } catch {
    // Already closed.
  }
}
