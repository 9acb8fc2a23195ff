/**
 * OpenTelemetry export over OTLP/HTTP with the JSON encoding (opentelemetry.io/docs/specs/otlp,
 * `POST <endpoint>/v1/traces`, `application/json`). Written out here rather than with the OTel JS
 * SDK: the SDK's exporters and context managers assume Node or the browser, and a Worker needs
 * only this — spans batched per invocation and sent with `waitUntil`, after the response.
 *
 * Configured with the standard variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (full URL) or
 * OTEL_EXPORTER_OTLP_ENDPOINT (base URL), OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values
 * URL-encoded), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and OTEL_TRACES_SAMPLER_ARG (a ratio).
 */
import type { SpanSink } from './context';
import { errorFields, log, scrubSecrets } from './log';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue | undefined | null>;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'internal' | 'server' | 'client';
  startMs: number;
  endMs: number;
  attributes: Attributes;
  status: 'unset' | 'ok' | 'error';
  statusMessage?: string;
  events?: { name: string; timeMs: number; attributes?: Attributes }[];
  /** Spans of other traces this one follows from (the request that started a run). */
  links?: { traceId: string; spanId: string }[];
}

export interface OtlpConfig {
  url: string;
  headers: Record<string, string>;
  resource: Record<string, string>;
  /** Fraction of traces kept, decided from the trace id so every span of a trace agrees. */
  ratio: number;
}

export interface OtelEnv {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_RESOURCE_ATTRIBUTES?: string;
  OTEL_TRACES_SAMPLER_ARG?: string;
}

function pairs(list: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (list ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // A malformed pair is skipped rather than failing every request.
    }
  }
  return out;
}

/**
 * Parsed once per env and kept with the variables it came from: an env object lives as long as the
 * isolate, but its values can change under it (tests set an endpoint on the shared env), and a
 * stale "off" must not outlive that. Comparing seven strings costs less than parsing them.
 */
const configs = new WeakMap<object, { source: string; config: OtlpConfig | null }>();

/** The exporter settings of `env`, or undefined when no endpoint is configured (tracing off). */
export function otlpConfig(env: object): OtlpConfig | undefined {
  const e = env as OtelEnv;
  const source = [
    e.OTEL_EXPORTER_OTLP_ENDPOINT,
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    e.OTEL_EXPORTER_OTLP_HEADERS,
    e.OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    e.OTEL_SERVICE_NAME,
    e.OTEL_RESOURCE_ATTRIBUTES,
    e.OTEL_TRACES_SAMPLER_ARG,
  ].join('\n');
  const cached = configs.get(env);
  if (cached?.source === source) return cached.config ?? undefined;
  let url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (!url && e.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) url = `${e.OTEL_EXPORTER_OTLP_ENDPOINT.trim().replace(/\/+$/, '')}/v1/traces`;
  let config: OtlpConfig | null = null;
  if (url && /^https?:\/\//.test(url)) {
    const ratio = Number(e.OTEL_TRACES_SAMPLER_ARG ?? '1');
    config = {
      url,
      headers: { ...pairs(e.OTEL_EXPORTER_OTLP_HEADERS), ...pairs(e.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
      resource: { 'service.name': e.OTEL_SERVICE_NAME || 'agentrunbook', ...pairs(e.OTEL_RESOURCE_ATTRIBUTES) },
      ratio: Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1,
    };
  } else if (url) {
    log.warn('OTLP endpoint is not an http(s) URL; tracing stays off');
  }
  configs.set(env, { source, config });
  return config ?? undefined;
}

/** Whether a trace is kept under `ratio`: the trace id's last 8 hex digits as a fraction. */
export function sampled(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return parseInt(traceId.slice(-8), 16) / 0x1_0000_0000 < ratio;
}

const KIND = { internal: 1, server: 2, client: 3 } as const;
const STATUS = { unset: 0, ok: 1, error: 2 } as const;

function nanos(ms: number): string {
  return `${BigInt(Math.round(ms)) * 1_000_000n}`;
}

function attributes(attrs: Attributes | undefined) {
  const out: { key: string; value: Record<string, unknown> }[] = [];
  for (const [key, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') out.push({ key, value: { stringValue: v } });
    else if (typeof v === 'boolean') out.push({ key, value: { boolValue: v } });
    else if (Number.isInteger(v)) out.push({ key, value: { intValue: String(v) } });
    else out.push({ key, value: { doubleValue: v } });
  }
  return out;
}

/** An OTLP ExportTraceServiceRequest in the JSON encoding (ids as hex, 64-bit integers as strings). */
export function encodeSpans(spans: SpanRecord[], resource: Record<string, string>): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: attributes(resource) },
        scopeSpans: [
          {
            scope: { name: 'agentrunbook' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: KIND[s.kind],
              startTimeUnixNano: nanos(s.startMs),
              endTimeUnixNano: nanos(Math.max(s.endMs, s.startMs)),
              attributes: attributes(s.attributes),
              ...(s.events?.length ? { events: s.events.map((e) => ({ name: e.name, timeUnixNano: nanos(e.timeMs), attributes: attributes(e.attributes) })) } : {}),
              ...(s.links?.length ? { links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })) } : {}),
              status: { code: STATUS[s.status], ...(s.statusMessage ? { message: s.statusMessage } : {}) },
            })),
          },
        ],
      },
    ],
  };
}

const MAX_BATCH = 512;

/**
 * The spans of one invocation (a request, an alarm). `flush` sends what was collected through
 * `waitUntil`, so export never delays a response and never fails one: a collector that is down
 * costs a warning in the log.
 */
export class SpanBatch implements SpanSink {
  private spans: SpanRecord[] = [];

  constructor(
    private readonly config: OtlpConfig,
    private readonly waitUntil: (p: Promise<unknown>) => void,
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  add(span: SpanRecord): void {
    this.spans.push(span);
    if (this.spans.length >= MAX_BATCH) this.flush();
  }

  flush(): void {
    if (this.spans.length === 0) return;
    const spans = this.spans;
    this.spans = [];
    this.waitUntil(this.send(spans));
  }

  private async send(spans: SpanRecord[]): Promise<void> {
    try {
      const res = await this.fetcher(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.config.headers },
        // Attributes never carry secrets by design; an error message quoting one is scrubbed all the same.
        body: scrubSecrets(JSON.stringify(encodeSpans(spans, this.config.resource))),
      });
      await res.body?.cancel();
      if (!res.ok) log.warn('OTLP export refused', { status: res.status, spans: spans.length, endpoint: new URL(this.config.url).origin });
    } catch (err) {
      log.warn('OTLP export failed', { spans: spans.length, endpoint: new URL(this.config.url).origin, error: errorFields(err) });
    }
  }
}
