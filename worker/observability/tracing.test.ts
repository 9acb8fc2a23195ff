import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Env } from '../env';
import { registerSecrets } from './log';
import { currentTraceparent, parseTraceparent, recordSpan, runTraceContext, traceInvocation, withSpan } from './tracing';

// A local OTLP/HTTP collector: records what it is sent, as a real one would receive it.
interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
}
interface Attr {
  key: string;
  value: { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attr[];
  events?: { name: string; attributes: Attr[] }[];
  status: { code: number; message?: string };
}

let server: Server;
let base = '';
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body) as Received['body'] });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  received.length = 0;
  vi.restoreAllMocks();
});

/** Runs `fn` like an invocation does, then waits for everything handed to waitUntil. */
async function invocation<T>(env: object, fn: (waitUntil: (p: Promise<unknown>) => void) => Promise<T>): Promise<T> {
  const pending: Promise<unknown>[] = [];
  const out = await fn((p) => pending.push(p));
  await Promise.all(pending);
  return out;
}

const spansOf = (r: Received) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans));
const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;

describe('tracing', () => {
  it('exports a trace of nested spans over OTLP/HTTP JSON, after the work, with the configured headers', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/`, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0k,x-team=ops', OTEL_SERVICE_NAME: 'arb-test' };
    const result = await invocation(env, (waitUntil) =>
      traceInvocation(env, waitUntil, 'run.tick', { 'agentrunbook.run_id': 'run_1' }, async () => {
        expect(currentTraceparent()).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
        return withSpan('run.step', { 'agentrunbook.step': 'drain', attempt: 2, mutating: true, ratio: 0.5 }, async (step) => {
          step.addEvent('approved', { by: 'alice' });
          await withSpan('tool.call', { tool: 'k8s.drain_node' }, async () => 'done', { kind: 'client' }).catch(() => undefined);
          await withSpan('llm.call', { 'gen_ai.request.model': 'gpt-x' }, async () => {
            throw new Error('provider timed out');
          }).catch(() => undefined);
          return 42;
        });
      }),
    );
    expect(result).toBe(42);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.path).toBe('/v1/traces');
    expect(r.headers.authorization).toBe('Bearer t0k');
    expect(r.headers['x-team']).toBe('ops');
    expect(r.body.resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'arb-test' } });
    const spans = spansOf(r);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['llm.call', 'run.step', 'run.tick', 'tool.call']);
    const root = byName['run.tick']!;
    expect(root.parentSpanId).toBeUndefined();
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    expect(byName['run.step']!.parentSpanId).toBe(root.spanId);
    expect(byName['tool.call']!.parentSpanId).toBe(byName['run.step']!.spanId);
    expect(byName['tool.call']!.kind).toBe(3);
    expect(byName['llm.call']!.status).toEqual({ code: 2, message: 'provider timed out' });
    expect(byName['llm.call']!.events?.[0]).toMatchObject({ name: 'exception' });
    expect(attr(byName['run.step']!, 'attempt')).toEqual({ intValue: '2' });
    expect(attr(byName['run.step']!, 'mutating')).toEqual({ boolValue: true });
    expect(attr(byName['run.step']!, 'ratio')).toEqual({ doubleValue: 0.5 });
    expect(BigInt(root.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(root.startTimeUnixNano));
  });

  it("puts a run's alarms, minutes apart, into one trace under the run's span", async () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/custom/traces` };
    const run = runTraceContext('run_abc');
    expect(runTraceContext('run_abc')).toEqual(run);
    expect(runTraceContext('run_abd').traceId).not.toBe(run.traceId);
    for (const step of ['a', 'b']) await invocation(env, (w) => traceInvocation(env, w, 'run.step', { step }, async () => undefined, { parent: run }));
    await invocation(env, async (w) => recordSpan(env, w, { ...run, name: 'run', startMs: Date.parse('2026-01-01T00:00:00Z'), endMs: Date.parse('2026-01-01T00:05:00Z'), attributes: { status: 'succeeded' } }));
    const spans = received.flatMap(spansOf);
    expect(received.every((r) => r.path === '/custom/traces')).toBe(true);
    expect(spans.map((s) => s.traceId)).toEqual([run.traceId, run.traceId, run.traceId]);
    expect(spans.slice(0, 2).map((s) => s.parentSpanId)).toEqual([run.spanId, run.spanId]);
    expect(spans[2]).toMatchObject({ spanId: run.spanId, name: 'run', startTimeUnixNano: '1767225600000000000', endTimeUnixNano: '1767225900000000000', status: { code: 1 } });
  });

  it('nests an invocation opened inside another in the same trace and batch', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: base };
    await invocation(env, (w) => traceInvocation(env, w, 'outer', {}, () => traceInvocation(env, w, 'inner', {}, async () => undefined)));
    expect(received).toHaveLength(1);
    const [inner, outer] = spansOf(received[0]!);
    expect(inner).toMatchObject({ name: 'inner', traceId: outer!.traceId, parentSpanId: outer!.spanId });
  });

  it('continues a W3C traceparent, and ignores a malformed one', () => {
    expect(parseTraceparent(`00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`)).toEqual({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) });
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`)).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
  });

  it('is a plain call when no endpoint is set, or when the trace is not sampled', async () => {
    expect(await withSpan('x', {}, () => 7)).toBe(7);
    expect(currentTraceparent()).toBeUndefined();
    expect(await invocation({}, (w) => traceInvocation({}, w, 'x', {}, async () => 8))).toBe(8);
    const sampledOut = { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_TRACES_SAMPLER_ARG: '0' };
    expect(await invocation(sampledOut, (w) => traceInvocation(sampledOut, w, 'x', {}, async () => 9))).toBe(9);
    expect(received).toHaveLength(0);
  });

  it('follows an env whose endpoint is set or removed after it was first read', async () => {
    const env: Record<string, string> = {};
    await invocation(env, (w) => traceInvocation(env, w, 'off', {}, async () => undefined));
    env.OTEL_EXPORTER_OTLP_ENDPOINT = base;
    await invocation(env, (w) => traceInvocation(env, w, 'on', {}, async () => undefined));
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await invocation(env, (w) => traceInvocation(env, w, 'off again', {}, async () => undefined));
    expect(received.flatMap(spansOf).map((s) => s.name)).toEqual(['on']);
  });

  it("changes a span's kind once known, and scrubs the deployment's secrets from what it exports", async () => {
    const secret = 'sk-deployment-key-quoted-in-an-error-0001';
    registerSecrets({ OPENAI_API_KEY: secret } as unknown as Env);
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: base };
    await invocation(env, (w) =>
      traceInvocation(env, w, 'call', {}, async (span) => {
        span.setKind('client');
        span.fail(`401 Incorrect API key provided: ${secret}`);
      }),
    );
    const [span] = received.flatMap(spansOf);
    expect(span).toMatchObject({ name: 'call', kind: 3, status: { code: 2, message: '401 Incorrect API key provided: [REDACTED]' } });
    expect(JSON.stringify(received)).not.toContain(secret);
  });

  it('never fails the work when the collector is down: it logs a warning without the headers', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-secret-123' };
    expect(await invocation(env, (w) => traceInvocation(env, w, 'x', {}, async () => 'ok'))).toBe('ok');
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0]![0]);
    expect(JSON.parse(line)).toMatchObject({ level: 'warn', message: 'OTLP export failed', endpoint: 'http://127.0.0.1:9' });
    expect(line).not.toContain('collector-secret');
  });
});
