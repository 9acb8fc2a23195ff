/**
 * The trace an operation runs in, carried by AsyncLocalStorage (node:async_hooks, available in
 * Workers with nodejs_compat): a span started anywhere below a request or an alarm finds its parent
 * and its exporter without either being passed through every call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SpanRecord } from './otlp';

export interface SpanContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
}

/** Where finished spans go (a batch flushed to the OTLP endpoint), or nowhere when tracing is off. */
export interface SpanSink {
  add(span: SpanRecord): void;
}

export interface ActiveTrace {
  span: SpanContext;
  sink: SpanSink | undefined;
}

const storage = new AsyncLocalStorage<ActiveTrace>();

export function activeTrace(): ActiveTrace | undefined {
  return storage.getStore();
}

export function runInTrace<T>(trace: ActiveTrace, fn: () => T): T {
  return storage.run(trace, fn);
}
