import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from './secrets';

const env = { SECRETS_KEY: btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i * 7))) };

describe('stored secrets', () => {
  it('round-trips, with a fresh IV each time', async () => {
    const a = await encryptSecret(env, 'ten_1', 'ghp_token');
    const b = await encryptSecret(env, 'ten_1', 'ghp_token');
    expect(a).not.toBe(b);
    expect(a).not.toContain('ghp_token');
    expect(await decryptSecret(env, 'ten_1', a)).toBe('ghp_token');
  });

  it('does not decrypt under another tenant or after tampering', async () => {
    const sealed = await encryptSecret(env, 'ten_1', 'secret');
    await expect(decryptSecret(env, 'ten_2', sealed)).rejects.toThrow();
    const [v, iv, body] = sealed.split(':');
    const flipped = body!.slice(0, -2) + (body!.endsWith('A=') ? 'B=' : 'A=');
    await expect(decryptSecret(env, 'ten_1', `${v}:${iv}:${flipped}`)).rejects.toThrow();
  });

  it('refuses a missing or short key with a clear error', async () => {
    await expect(encryptSecret({}, 't', 'x')).rejects.toThrow(/SECRETS_KEY/);
    await expect(encryptSecret({ SECRETS_KEY: btoa('short') }, 't', 'x')).rejects.toThrow(/32 bytes/);
  });
});
