import { describe, expect, it } from 'vitest';
import { REDACTED, isSecretKey, redact, redactText } from './redact';

describe('redact', () => {
  it('removes values under secret-looking keys, in snake, kebab and camel case', () => {
    const out = redact({
      client_secret: 's3',
      clientSecret: 's3',
      'x-api-key': 'k',
      apiKey: 'k',
      access_token: 't',
      Authorization: 'Bearer abc',
      'set-cookie': 'arb_session=x',
      webhook_secret: 'w',
      AUDIT_HMAC_KEYS: '{"k1":"x"}',
      signing_key: 'pk',
      credentials: { token: 't', user: 'u' },
    }) as Record<string, unknown>;
    for (const [k, v] of Object.entries(out)) expect(v, k).toBe(REDACTED);
  });

  it('keeps counts and ids whose names only contain a secret word', () => {
    expect(redact({ tokens: 1200, key_id: 'k1', keyId: 'k2', secrets_set: undefined, token_count: null })).toEqual({ tokens: 1200, key_id: 'k1', keyId: 'k2', secrets_set: undefined, token_count: null });
    expect(isSecretKey('prev_hash')).toBe(false);
    expect(isSecretKey('tokenizer')).toBe(false);
  });

  it('removes credentials found inside any text', () => {
    const samples = [
      'ark_abcdefghijklmnopqrstuvwxyz0123',
      'ghp_abcdefghijklmnopqrstuvwxyz012345',
      'github_pat_11ABCDEFG0123456789_abcdefghij',
      'sk-ant-api03-abcdefghijklmnopqrstuv',
      'xoxb-1234567890-abcdef',
      'AKIAIOSFODNN7EXAMPLE',
      'ATATT3xFfGF0abcdefghijklmnopqrstuvwxyz',
      'eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ0ZW5fMSIsInN1YiI6InNlc18xIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU',
      'v1:AAECAwQFBgcICQoL:q83vEjRWeJq83vEjRWeJq83v',
      '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----',
      'Bearer abcdefghijklmnopqrstuvwxyz',
      'Basic dXNlcjpwYXNzd29yZDEyMw==',
    ];
    for (const s of samples) {
      const out = redactText(`before ${s} after`);
      expect(out, s).toBe(`before ${REDACTED} after`);
    }
  });

  it('removes passwords in URLs and secret query parameters, keeping the rest', () => {
    expect(redactText('postgres://app:hunter2@db:5432/x')).toBe(`postgres://app:${REDACTED}@db:5432/x`);
    expect(redactText('https://h/cb?code=abc123&state=xyz')).toBe(`https://h/cb?code=${REDACTED}&state=xyz`);
    expect(redactText('/api?token=t0k&limit=5')).toBe(`/api?token=${REDACTED}&limit=5`);
  });

  it('leaves ordinary text and hashes alone', () => {
    const hash = 'a'.repeat(64);
    expect(redactText(`run run_0m3k succeeded; hash ${hash}`)).toBe(`run run_0m3k succeeded; hash ${hash}`);
  });
});
