/**
 * The one structured logger: one JSON object per line on the console, which Workers Logs (and any
 * log shipper reading `wrangler tail`) indexes by field. Every record passes through `redact`, and
 * then through an exact-match scrub of the deployment's own secrets, so a key, token, cookie or
 * credential cannot reach the logs by any field or inside any message.
 */
import type { Env } from '../env';
import { REDACTED, redact } from '../lib/redact';
import { activeTrace } from './context';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/** Values of secrets this deployment holds (bindings), scrubbed from every line as exact strings. */
const knownSecrets = new Set<string>();

const SECRET_BINDINGS = [
  'AUDIT_HMAC_KEYS',
  'AUDIT_SIGNING_KEY',
  'SESSION_SECRET',
  'SECRETS_KEY',
  'SECRETS_KEY_PREVIOUS',
  'BOOTSTRAP_TOKEN',
  'METRICS_TOKEN',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'OTEL_EXPORTER_OTLP_HEADERS',
] as const;

/** The envs already read: registration runs on every request and in every object's constructor. */
const registered = new WeakSet<object>();

/**
 * Remembers the secrets of `env` (their whole values, and the parts of JSON or header lists). Cheap
 * to call again with the same env; every entry point calls it (the request middleware, each Durable
 * Object's constructor), since an object in a fresh isolate may log before any request reached it.
 */
export function registerSecrets(env: Env): void {
  if (registered.has(env)) return;
  registered.add(env);
  const vars = env as unknown as Record<string, unknown>;
  for (const name of SECRET_BINDINGS) {
    const value = vars[name];
    if (typeof value !== 'string' || value.length < 8) continue;
    knownSecrets.add(value);
    if (name === 'AUDIT_HMAC_KEYS') {
      try {
        for (const v of Object.values(JSON.parse(value) as Record<string, unknown>)) if (typeof v === 'string' && v.length >= 8) knownSecrets.add(v);
      } catch {
        // Not JSON: the whole value is registered already.
      }
    }
    if (name === 'OTEL_EXPORTER_OTLP_HEADERS') {
      for (const pair of value.split(',')) {
        const v = pair.slice(pair.indexOf('=') + 1).trim();
        if (v.length >= 8) knownSecrets.add(v);
      }
    }
  }
}

/** Replaces every registered secret in `line` (a log line, an OTLP export body). */
export function scrubSecrets(line: string): string {
  for (const secret of knownSecrets) {
    // JSON.stringify may have escaped characters of the secret; match both forms.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (line.includes(secret)) line = line.split(secret).join(REDACTED);
    if (escaped !== secret && line.includes(escaped)) line = line.split(escaped).join(REDACTED);
  }
  return line;
}

/** An error as loggable fields: name, message and stack, nothing else it may carry (request options, headers). */
export function errorFields(err: unknown): { name: string; message: string; stack?: string } {
  if (err instanceof Error) return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  return { name: typeof err, message: String(err) };
}

/** Formats one record as its JSON line (exported for tests). */
export function formatRecord(level: LogLevel, message: string, fields: LogFields = {}): string {
  const trace = activeTrace();
  const record: LogFields = {
    ts: new Date().toISOString(),
    level,
    message,
    ...(trace ? { trace_id: trace.span.traceId, span_id: trace.span.spanId } : {}),
  };
  for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? errorFields(v) : v;
  let line: string;
  try {
    line = JSON.stringify(redact(record));
  } catch {
    line = JSON.stringify({ ts: record.ts, level, message: redact(message), note: 'fields could not be serialised' });
  }
  return scrubSecrets(line);
}

function emit(level: LogLevel, message: string, fields?: LogFields): void {
  const line = formatRecord(level, message, fields);
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

export const log = {
  info: (message: string, fields?: LogFields) => emit('info', message, fields),
  warn: (message: string, fields?: LogFields) => emit('warn', message, fields),
  error: (message: string, fields?: LogFields) => emit('error', message, fields),
};
