/**
 * Spans for requests, runs, steps, LLM calls and tool calls. The API:
 *
 *   traceInvocation(env, waitUntil, name, attrs, fn, { parent })  — opens a trace for one
 *       invocation (a request, a Durable Object alarm or RPC) and flushes its spans at the end;
 *   withSpan(name, attrs, fn)  — a child of whatever span is current (AsyncLocalStorage), or a
 *       plain call of `fn` when nothing is being traced;
 *   runTraceContext(runId)  — the trace a run's spans belong to, derived from the run id, so the
 *       alarms of one run (minutes or days apart, in different isolates) land in one trace;
 *   recordSpan(env, waitUntil, span)  — a span known only afterwards (the run's root span).
 *
 * Without an OTLP endpoint every function is a direct call of `fn` with a no-op span.
 */
import * as nodeCrypto from 'node:crypto';
import { activeTrace, runInTrace, type SpanContext, type SpanSink } from './context';
import { otlpConfig, sampled, SpanBatch, type AttributeValue, type Attributes, type SpanRecord } from './otlp';

export type { SpanContext } from './context';
export type { Attributes } from './otlp';

export interface Span {
  readonly context: SpanContext | undefined;
  /** Renames the span once more is known (a request's route after routing). */
  setName(name: string): void;
  setAttribute(key: string, value: AttributeValue | undefined | null): void;
  setAttributes(attrs: Attributes): void;
  addEvent(name: string, attrs?: Attributes): void;
  /** Marks the span failed without throwing (a thrown error marks it by itself). */
  fail(message: string): void;
  /** Changes the kind once it is known (a tool call turns out to go to a vendor: `client`). */
  setKind(kind: SpanRecord['kind']): void;
}

export interface SpanOptions {
  kind?: 'internal' | 'server' | 'client';
  /** The parent: a span context, or a W3C `traceparent` header value. Default: the current span. */
  parent?: SpanContext | string;
  /** Spans of other traces this one follows from (contexts or `traceparent` values; invalid ones are dropped). */
  links?: (SpanContext | string | undefined)[];
}

const NOOP: Span = { context: undefined, setName() {}, setAttribute() {}, setAttributes() {}, addEvent() {}, fail() {}, setKind() {} };

function randomHex(bytes: number): string {
  let out = '';
  for (const b of crypto.getRandomValues(new Uint8Array(bytes))) out += b.toString(16).padStart(2, '0');
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function parseTraceparent(header: string | undefined | null): SpanContext | undefined {
  const m = header ? TRACEPARENT.exec(header.trim()) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]! };
}

export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-01`;
}

/** The `traceparent` of the current span, to pass on to an outgoing call or a Durable Object RPC. */
export function currentTraceparent(): string | undefined {
  const t = activeTrace();
  return t?.sink ? formatTraceparent(t.span) : undefined;
}

/** A run's trace id and root span id, derived from its id. */
export function runTraceContext(runId: string): SpanContext {
  const digest = nodeCrypto.createHash('sha256').update(`agentrunbook.run:${runId}`).digest('hex');
  return { traceId: digest.slice(0, 32), spanId: digest.slice(32, 48) };
}

function asContext(parent: SpanContext | string | undefined): SpanContext | undefined {
  return typeof parent === 'string' ? parseTraceparent(parent) : parent;
}

function linksOf(links: SpanOptions['links']): SpanContext[] {
  return (links ?? []).map(asContext).filter((l): l is SpanContext => l !== undefined);
}

async function runSpan<T>(sink: SpanSink, parent: SpanContext | undefined, name: string, attrs: Attributes, fn: (span: Span) => Promise<T> | T, kind: SpanRecord['kind'], traceId: string, links: SpanContext[] = []): Promise<T> {
  const context = { traceId, spanId: randomHex(8) };
  const record: SpanRecord = {
    traceId,
    spanId: context.spanId,
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    ...(links.length ? { links } : {}),
    name,
    kind,
    startMs: Date.now(),
    endMs: 0,
    attributes: { ...attrs },
    status: 'unset',
  };
  const span: Span = {
    context,
    setName: (n) => void (record.name = n),
    setAttribute: (k, v) => void (record.attributes[k] = v),
    setAttributes: (a) => void Object.assign(record.attributes, a),
    addEvent: (n, a) => void (record.events ??= []).push({ name: n, timeMs: Date.now(), attributes: a }),
    fail: (message) => {
      record.status = 'error';
      record.statusMessage = message;
    },
    setKind: (k) => void (record.kind = k),
  };
  try {
    return await runInTrace({ span: context, sink }, () => fn(span));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    span.fail(e.message);
    span.addEvent('exception', { 'exception.type': e.name, 'exception.message': e.message });
    throw err;
  } finally {
    record.endMs = Date.now();
    sink.add(record);
  }
}

/** Runs `fn` in a child span of the current one; a plain call when nothing is traced. */
export function withSpan<T>(name: string, attrs: Attributes, fn: (span: Span) => Promise<T> | T, options: SpanOptions = {}): Promise<T> {
  const active = activeTrace();
  if (!active?.sink) return (async () => fn(NOOP))();
  const parent = asContext(options.parent) ?? active.span;
  return runSpan(active.sink, parent, name, attrs, fn, options.kind ?? 'internal', parent.traceId, linksOf(options.links));
}

/**
 * Opens the trace of one invocation: a root span (or a child of `options.parent`) around `fn`,
 * whose spans, and those of every `withSpan` below it, are exported after it with `waitUntil`.
 */
export async function traceInvocation<T>(
  env: object,
  waitUntil: (p: Promise<unknown>) => void,
  name: string,
  attrs: Attributes,
  fn: (span: Span) => Promise<T> | T,
  options: SpanOptions = {},
): Promise<T> {
  // Already inside a traced invocation (in the same isolate): a child span in that batch.
  if (activeTrace()?.sink) return withSpan(name, attrs, fn, options);
  const config = otlpConfig(env);
  const parent = asContext(options.parent);
  const traceId = parent?.traceId ?? randomHex(16);
  if (!config || !sampled(traceId, config.ratio)) return fn(NOOP);
  const batch = new SpanBatch(config, waitUntil);
  try {
    return await runSpan(batch, parent, name, attrs, fn, options.kind ?? 'internal', traceId, linksOf(options.links));
  } finally {
    batch.flush();
  }
}

/**
 * Records a span whose times are known afterwards — a run's root span, from its creation to its
 * end, written once when the run finishes: `recordSpan(env, waitUntil, { ...runTraceContext(id), … })`.
 */
export function recordSpan(
  env: object,
  waitUntil: (p: Promise<unknown>) => void,
  span: { traceId: string; spanId: string; parentSpanId?: string; name: string; startMs: number; endMs: number; attributes: Attributes; error?: string; links?: SpanOptions['links'] },
): void {
  const config = otlpConfig(env);
  if (!config || !sampled(span.traceId, config.ratio)) return;
  const batch = new SpanBatch(config, waitUntil);
  const links = linksOf(span.links);
  batch.add({
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    ...(links.length ? { links } : {}),
    name: span.name,
    kind: 'internal',
    startMs: span.startMs,
    endMs: span.endMs,
    attributes: span.attributes,
    status: span.error ? 'error' : 'ok',
    ...(span.error ? { statusMessage: span.error } : {}),
  });
  batch.flush();
}
