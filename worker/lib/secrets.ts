/**
 * Encryption of stored credentials (integration tokens, OIDC client secrets): AES-256-GCM with a
 * key from the Worker secret `SECRETS_KEY` (32 random bytes, base64). The stored form is
 * `v1:<base64 iv>:<base64 ciphertext+tag>`; the tenant id is bound as additional data, so a
 * ciphertext copied into another tenant's row does not decrypt.
 *
 * Rotation: put the new key in `SECRETS_KEY` and the old one in `SECRETS_KEY_PREVIOUS`. Secrets
 * sealed with either open; new ones are sealed with the new key; `POST /secrets/reseal` seals every
 * stored secret again with the new key, after which the previous one can be deleted.
 */
import { ApiError } from './errors';

export interface SecretsEnv {
  SECRETS_KEY?: string;
  /** The key before the last rotation: still opens what it sealed, never seals. */
  SECRETS_KEY_PREVIOUS?: string;
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

type KeyName = 'SECRETS_KEY' | 'SECRETS_KEY_PREVIOUS';

function importKey(raw: string | undefined, name: KeyName): Promise<CryptoKey> {
  if (!raw) throw new ApiError('unavailable', `Stored credentials are not configured (the ${name} secret is not set)`);
  let key = keyCache.get(raw);
  if (!key) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = b64decode(raw);
    } catch {
      throw new ApiError('unavailable', `${name} must be 32 bytes, base64-encoded`);
    }
    if (bytes.length !== 32) throw new ApiError('unavailable', `${name} must be 32 bytes, base64-encoded`);
    key = crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
    keyCache.set(raw, key);
  }
  return key;
}

export async function encryptSecret(env: SecretsEnv, tenantId: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(tenantId) },
    await importKey(env.SECRETS_KEY, 'SECRETS_KEY'),
    new TextEncoder().encode(plaintext),
  );
  return `v1:${b64encode(iv)}:${b64encode(new Uint8Array(sealed))}`;
}

/** Opens a stored secret with the current key, or else the previous one; says which opened it. */
async function openSecret(env: SecretsEnv, tenantId: string, stored: string): Promise<{ plaintext: string; sealedWith: 'current' | 'previous' }> {
  const [version, iv, body] = stored.split(':');
  if (version !== 'v1' || !iv || !body) throw new Error('Stored secret has an unknown format');
  const open = async (name: KeyName, raw: string | undefined) =>
    new TextDecoder().decode(
      await crypto.subtle.decrypt({ name: 'AES-GCM', iv: b64decode(iv), additionalData: new TextEncoder().encode(tenantId) }, await importKey(raw, name), b64decode(body)),
    );
  try {
    return { plaintext: await open('SECRETS_KEY', env.SECRETS_KEY), sealedWith: 'current' };
  } catch (err) {
    // A configuration problem of the current key is reported as such, not hidden behind the previous key.
    if (err instanceof ApiError || !env.SECRETS_KEY_PREVIOUS) throw err;
    return { plaintext: await open('SECRETS_KEY_PREVIOUS', env.SECRETS_KEY_PREVIOUS), sealedWith: 'previous' };
  }
}

export async function decryptSecret(env: SecretsEnv, tenantId: string, stored: string): Promise<string> {
  return (await openSecret(env, tenantId, stored)).plaintext;
}

/**
 * The stored secret sealed again with the current key, or `undefined` when it already is. Throws
 * when neither key opens it (sealed with a key that is gone, or copied from another tenant).
 */
export async function resealSecret(env: SecretsEnv, tenantId: string, stored: string): Promise<string | undefined> {
  const opened = await openSecret(env, tenantId, stored);
  return opened.sealedWith === 'current' ? undefined : encryptSecret(env, tenantId, opened.plaintext);
}
