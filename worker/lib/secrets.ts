/**
 * Encryption of stored credentials (integration tokens, OIDC client secrets): AES-256-GCM with a
 * key from the Worker secret `SECRETS_KEY` (32 random bytes, base64). The stored form is
 * `v1:<base64 iv>:<base64 ciphertext+tag>`; the tenant id is bound as additional data, so a
 * ciphertext copied into another tenant's row does not decrypt.
 */
import { ApiError } from './errors';

export interface SecretsEnv {
  SECRETS_KEY?: string;
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function b64encode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function b64decode(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function importKey(env: SecretsEnv): Promise<CryptoKey> {
  const raw = env.SECRETS_KEY;
  if (!raw) throw new ApiError('unavailable', 'Stored credentials are not configured (the SECRETS_KEY secret is not set)');
  let key = keyCache.get(raw);
  if (!key) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = b64decode(raw);
    } catch {
      throw new ApiError('unavailable', 'SECRETS_KEY must be 32 bytes, base64-encoded');
    }
    if (bytes.length !== 32) throw new ApiError('unavailable', 'SECRETS_KEY must be 32 bytes, base64-encoded');
    key = crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
    keyCache.set(raw, key);
  }
  return key;
}

export async function encryptSecret(env: SecretsEnv, tenantId: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(tenantId) },
    await importKey(env),
    new TextEncoder().encode(plaintext),
  );
  return `v1:${b64encode(iv)}:${b64encode(new Uint8Array(sealed))}`;
}

export async function decryptSecret(env: SecretsEnv, tenantId: string, stored: string): Promise<string> {
  const [version, iv, body] = stored.split(':');
  if (version !== 'v1' || !iv || !body) throw new Error('Stored secret has an unknown format');
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: b64decode(iv), additionalData: new TextEncoder().encode(tenantId) },
    await importKey(env),
    b64decode(body),
  );
  return new TextDecoder().decode(plain);
}
