import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../env';
import { errorFields, formatRecord, log, registerSecrets } from './log';

afterEach(() => vi.restoreAllMocks());

describe('the structured logger', () => {
  it('writes one JSON object per line, errors as name, message and stack', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((l: string) => void lines.push(l));
    log.error('unhandled error', { request_id: 'req_1', error: new TypeError('boom') });
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({ level: 'error', message: 'unhandled error', request_id: 'req_1', error: { name: 'TypeError', message: 'boom' } });
    expect(typeof rec.ts).toBe('string');
    expect((rec.error as { stack: string }).stack).toContain('TypeError: boom');
  });

  it('redacts secret fields and tokens inside messages and errors', () => {
    const line = formatRecord('warn', 'call failed with Bearer abcdefghijklmnopqrstuvwxyz', {
      headers: { authorization: 'Bearer abc', cookie: 'arb_session=x', 'x-request-id': 'r1' },
      client_secret: 'hunter2hunter2',
      error: errorFields(new Error('GET https://api.example.com/?access_token=tok123 failed for ghp_abcdefghijklmnopqrstuvwxyz012345')),
    });
    expect(line).not.toMatch(/abcdefghijklmnop|hunter2|tok123|ghp_|arb_session/);
    expect(JSON.parse(line)).toMatchObject({ headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-request-id': 'r1' }, client_secret: '[REDACTED]' });
  });

  it("scrubs the deployment's own secrets wherever they appear, even under harmless names", () => {
    registerSecrets({
      SECRETS_KEY: 'c2VjcmV0cy1rZXktYmFzZTY0LXZhbHVlLTMyYnl0ZXM=',
      AUDIT_HMAC_KEYS: JSON.stringify({ k1: 'hmac-key-one-value', k2: 'hmac-key-two-value' }),
      OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=hc-team-key-123456',
      METRICS_TOKEN: 'short',
    } as unknown as Env);
    const line = formatRecord('info', 'config dump', { note: 'k=c2VjcmV0cy1rZXktYmFzZTY0LXZhbHVlLTMyYnl0ZXM= and hmac-key-two-value', h: 'hc-team-key-123456' });
    expect(line).not.toMatch(/c2VjcmV0|hmac-key-two|hc-team-key/);
    // Values too short to be told from ordinary words are left alone.
    expect(formatRecord('info', 'a short word')).toContain('short');
  });

  it('reads an env once however often it is registered (every request and object constructor calls it)', () => {
    let reads = 0;
    const env = {
      get SESSION_SECRET() {
        reads++;
        return 'session-secret-read-once-0001';
      },
    } as unknown as Env;
    registerSecrets(env);
    registerSecrets(env);
    registerSecrets(env);
    expect(reads).toBe(1);
    expect(formatRecord('info', 'session-secret-read-once-0001')).not.toContain('session-secret-read-once');
    // Another env (another deployment's bindings in the same process) is read for its own secrets.
    registerSecrets({ SESSION_SECRET: 'session-secret-of-env-two-0002' } as unknown as Env);
    expect(formatRecord('info', 'session-secret-of-env-two-0002')).not.toContain('env-two');
  });

  it('survives fields that cannot be serialised', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(JSON.parse(formatRecord('info', 'x', { big: 10n, circular }))).toMatchObject({ message: 'x' });
  });
});
