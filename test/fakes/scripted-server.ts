/**
 * Plumbing of the fake LLM servers (openai-server.ts, anthropic-server.ts): a recorded request, a
 * queue of scripted answers (one per request, unlike the route-based `FakeApi` of fake-server.ts),
 * and a Node listener that aborts a handler's pending delay when the client gives up, which the
 * timeout tests rely on. The handler is the fake itself, so a workerd test can route `fetch` to it.
 */

export interface RecordedRequest<B = unknown> {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: B;
  /** `Date.now()` on arrival: tests measure retry spacing with it. */
  at: number;
}

export type Handler = (req: Request) => Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Waits, unless the client gives up first (a timed-out SDK request closes its connection). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function record<B>(req: Request): Promise<{ recorded: RecordedRequest<B | undefined>; parseError?: string }> {
  const headers: Record<string, string> = {};
  req.headers.forEach((value, key) => (headers[key.toLowerCase()] = value));
  const text = await req.text();
  const recorded: RecordedRequest<B | undefined> = { method: req.method, path: new URL(req.url).pathname, headers, body: undefined, at: Date.now() };
  if (!text) return { recorded };
  try {
    recorded.body = JSON.parse(text) as B;
    return { recorded };
  } catch (err) {
    return { recorded, parseError: (err as Error).message };
  }
}

/** A FIFO of scripted answers; a function computes its answer from the request. */
export class Script<S, B> {
  private readonly queue: Array<S | ((body: B) => S)> = [];
  private fallback: ((body: B) => S) | undefined;

  push(steps: Array<S | ((body: B) => S)>): void {
    this.queue.push(...steps);
  }

  otherwise(step: S | ((body: B) => S)): void {
    this.fallback = typeof step === 'function' ? (step as (body: B) => S) : () => step;
  }

  next(body: B): S | undefined {
    const step = this.queue.shift();
    if (step === undefined) return this.fallback?.(body);
    return typeof step === 'function' ? (step as (body: B) => S)(body) : step;
  }

  get remaining(): number {
    return this.queue.length;
  }
}

// Minimal shapes of `node:http`: the workers tsconfig has no Node types, and this module must
// also load inside workerd (where only the handler is used), so `node:http` is imported lazily.
interface NodeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}
interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): void;
  end(body?: Uint8Array): void;
  on(event: 'close', listener: () => void): void;
  writableEnded: boolean;
}
interface NodeServer {
  listen(port: number, host: string, callback: () => void): void;
  address(): { port: number } | string | null;
  close(callback: () => void): void;
  closeAllConnections(): void;
}
interface NodeHttp {
  createServer(listener: (req: NodeRequest, res: NodeResponse) => void): NodeServer;
}

const NODE_HTTP: string = 'node:http';

export interface Listening {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/** Serves a fetch-style handler on 127.0.0.1 with a free port (Node only). */
export async function listen(handler: Handler): Promise<Listening> {
  const http = (await import(/* @vite-ignore */ NODE_HTTP)) as NodeHttp;
  const server = http.createServer((req, res) => {
    void (async () => {
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableEnded) abort.abort();
      });
      const chunks: Uint8Array[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const method = req.method ?? 'GET';
      const body = method === 'GET' || method === 'HEAD' ? undefined : concat(chunks);
      const response = await handler(new Request(`http://127.0.0.1${req.url ?? '/'}`, { method, headers, body, signal: abort.signal }));
      if (abort.signal.aborted) return;
      const out: Record<string, string> = {};
      response.headers.forEach((value, key) => (out[key] = value));
      res.writeHead(response.status, out);
      res.end(new Uint8Array(await response.arrayBuffer()));
    })().catch((err: unknown) => {
      if (!res.writableEnded) {
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(new TextEncoder().encode(`fake server crashed: ${String(err)}`));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
