/**
 * The shared part of the fake vendor APIs: routing, a log of every request, scripted failures,
 * and serving a fetch handler over node:http. Each fake is a plain `(Request) => Promise<Response>`
 * so a Node test serves it on a port (`serve`) and a workerd test can route `fetch` to it.
 */

export type FetchHandler = (request: Request) => Promise<Response>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Parsed JSON, the text when it is not JSON, or undefined without a body. */
  body: unknown;
}

export interface ScriptedFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many matching requests fail; default 1. */
  times?: number;
  method?: string;
  /** A substring or pattern the path must match; default any path. */
  path?: string | RegExp;
  /**
   * Carry the request out first, then answer with the failure: a vendor that did the work and lost
   * the answer (a gateway 502 after the backend committed). Default: fail without acting.
   */
  after?: boolean;
}

/** Thrown by a route to answer with the vendor's error shape. */
export class FakeHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

type RouteHandler = (req: RecordedRequest, params: Record<string, string>) => Response | Promise<Response>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  run: RouteHandler;
}

export interface FakeApiOptions {
  /** Answers an unauthenticated request (401), or undefined to let it through. */
  authorize(req: RecordedRequest): Response | undefined;
  /** The vendor's error body for a status and message. */
  errorBody(status: number, message: string): unknown;
  /** Headers added to every answer (rate-limit counters). */
  headers?(req: RecordedRequest): Record<string, string>;
}

export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];
  private failures: (ScriptedFailure & { left: number })[] = [];

  constructor(private readonly options: FakeApiOptions) {}

  /** Adds a route; `:name` segments become params, e.g. `/repos/:owner/:repo/issues/:number`. */
  on(method: string, path: string, run: RouteHandler): this {
    const names: string[] = [];
    const source = path.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, run });
    return this;
  }

  /** Makes the next matching request(s) fail with this answer (429 once, 500 twice…). */
  fail(failure: ScriptedFailure): void {
    this.failures.push({ ...failure, left: failure.times ?? 1 });
  }

  /** Requests other than GET, optionally only those whose path matches. */
  writes(path?: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && (path === undefined || matches(r.path, path)));
  }

  error(status: number, message: string, headers: Record<string, string> = {}): Response {
    return json(this.options.errorBody(status, message), status, headers);
  }

  readonly handler: FetchHandler = async (request) => {
    const req = await record(request);
    this.requests.push(req);
    const extra = this.options.headers?.(req) ?? {};
    const failure = this.failures.find(
      (f) => f.left > 0 && (f.method === undefined || f.method === req.method) && (f.path === undefined || matches(req.path, f.path)),
    );
    if (failure) {
      failure.left -= 1;
      if (failure.after) await this.route(req);
      const body = failure.body ?? this.options.errorBody(failure.status, `scripted ${failure.status}`);
      return withHeaders(json(body, failure.status, failure.headers), extra);
    }
    return withHeaders(await this.route(req), extra);
  };

  /** The answer of the route the request matches (authorization first), or the vendor's 404. */
  private async route(req: RecordedRequest): Promise<Response> {
    const denied = this.options.authorize(req);
    if (denied) return denied;
    for (const route of this.routes) {
      const m = route.method === req.method ? route.pattern.exec(req.path) : null;
      if (!m) continue;
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(m[i + 1]!)]));
      try {
        return await route.run(req, params);
      } catch (err) {
        if (err instanceof FakeHttpError) return this.error(err.status, err.message, err.headers);
        throw err;
      }
    }
    return this.error(404, `No route for ${req.method} ${req.path}`);
  }
}

const matches = (path: string, pattern: string | RegExp): boolean =>
  typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) {
    if (!response.headers.has(name)) response.headers.set(name, value);
  }
  return response;
}

async function record(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  let body: unknown = text === '' ? undefined : text;
  try {
    if (text !== '') body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the assertion to see
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return { method: request.method, path: url.pathname, query: url.searchParams, headers, body };
}

/** Reads a JSON body field by field without trusting its shape. */
export function field<T>(body: unknown, ...path: string[]): T | undefined {
  let value: unknown = body;
  for (const key of path) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value as T | undefined;
}

// node:http is loaded at run time and typed here by the little it is used for, so these files
// also typecheck under tsconfig.json (workerd types, no Node types) and the handlers run in workerd.
interface NodeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}
interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): void;
  end(body?: Uint8Array): void;
}
interface NodeServer {
  listen(port: number, host: string, ready: () => void): void;
  address(): { port: number } | string | null;
  close(done: () => void): void;
  closeAllConnections(): void;
}
interface NodeHttp {
  createServer(listener: (req: NodeRequest, res: NodeResponse) => void): NodeServer;
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Serves a fetch handler on 127.0.0.1 at a free port (Node only). */
export async function serve(handler: FetchHandler): Promise<Served> {
  const http = (await import(/* @vite-ignore */ 'node:http' as string)) as NodeHttp;
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const body = chunks.length ? concat(chunks) : undefined;
      const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, { method: req.method, headers, body });
      let response: Response;
      try {
        response = await handler(request);
      } catch (err) {
        response = new Response(`fake server error: ${String(err)}`, { status: 500 });
      }
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        out[name] = value;
      });
      res.writeHead(response.status, out);
      res.end(new Uint8Array(await response.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
