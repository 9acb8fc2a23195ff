// Helpers shared by the phases of `npm run bench`: logging, the API client, a bounded pool.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from '../lib.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (msg) => console.log(`\x1b[36m▸\x1b[0m ${msg}`);
/** A progress line rewritten in place on a terminal; silent otherwise (CI logs stay clean). */
export const progress = (msg) => process.stdout.isTTY && process.stdout.write(`\r  ${msg}   `);
export const progressEnd = () => process.stdout.isTTY && process.stdout.write('\n');
/** Milliseconds with sub-millisecond resolution, for client-side timings. */
export const now = () => performance.now();

export const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'cancelled']);

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1' }, () => srv.close(() => resolve(true)));
  });
}

export async function freePort(start) {
  for (let p = start; p < start + 50; p++) if (await portIsFree(p)) return p;
  throw new Error(`no free port in ${start}..${start + 49}`);
}

export function wranglerVersion() {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'wrangler', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

const REQUEST_TIMEOUT_MS = Number(process.env.BENCH_REQUEST_TIMEOUT_MS ?? 60_000);

/** `api(method, path, body?, contentType?)` against /api/v1 with the key; throws on a non-2xx answer. */
export function makeClient(url, key) {
  const base = `${url}/api/v1`;
  return async function api(method, p, body, contentType = 'application/json') {
    let res;
    try {
      res = await fetch(base + p, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      // fetch's own message ("fetch failed") hides what happened: name the call and the cause.
      const why = err.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : (err.cause?.message ?? err.message);
      throw new Error(`${method} ${p}: ${why}`);
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (!res.ok) {
      let msg = `${method} ${p} → ${res.status}: ${typeof json === 'string' ? json : JSON.stringify(json)}`.slice(0, 2000);
      // wrangler dev's proxy answers so when its connection to the Worker drops, restart or not
      // (cloudflare/workers-sdk#14641); it happens with many requests in flight at once.
      if (res.status === 503 && /restarted mid-request/.test(text)) msg += ' [wrangler dev\'s proxy lost its connection to the Worker: see BENCH_POST_CONCURRENCY]';
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return json;
  };
}

/** Calls `fn(item, index)` for every item with at most `limit` calls in flight; results in order. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The largest number of [start, end] intervals open at once. */
export function peakOverlap(intervals) {
  const edges = [];
  for (const [a, b] of intervals) edges.push([a, 1], [b, -1]);
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // an end before a start at the same instant
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}
