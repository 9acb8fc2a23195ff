/**
 * The Ed25519 key that signs checkpoints, from the `AUDIT_SIGNING_KEY` secret: a private JWK
 * (`{"kty":"OKP","crv":"Ed25519","d":…,"x":…,"kid"?:…}`) or PKCS#8 (base64 DER, or PEM). Its id is
 * the JWK's `kid`, else `AUDIT_SIGNING_KEY_ID`, else derived from the public key, so a rotated key
 * always gets a new id. Signing stays in WebCrypto: the private key is imported non-extractable.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { checkpointText, ed25519KeyId, formatSignatureLine, formatVerifierKey, type Checkpoint } from './checkpoint';

export interface SigningKey {
  id: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

const cache = new Map<string, Promise<SigningKey>>();

/** Parses and imports the secret once per isolate; a bad secret rejects with the reason (never the secret). */
export function loadSigningKey(secret: string, configuredId?: string): Promise<SigningKey> {
  const cacheKey = `${configuredId ?? ''}\u0000${secret}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = importSigningKey(secret.trim(), configuredId);
    cache.set(cacheKey, key);
    key.catch(() => cache.delete(cacheKey));
  }
  return key;
}

async function importSigningKey(secret: string, configuredId?: string): Promise<SigningKey> {
  let privateKey: CryptoKey;
  let kid: string | undefined;
  if (secret.startsWith('{')) {
    let jwk: JsonWebKey & { kid?: string };
    try {
      jwk = JSON.parse(secret) as JsonWebKey & { kid?: string };
    } catch {
      throw new SigningKeyError('AUDIT_SIGNING_KEY looks like JSON but does not parse');
    }
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new SigningKeyError('AUDIT_SIGNING_KEY must be an Ed25519 private JWK (kty OKP, crv Ed25519, d and x)');
    kid = jwk.kid;
    privateKey = await importOrExplain('jwk', { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x });
  } else {
    const body = secret.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new SigningKeyError('AUDIT_SIGNING_KEY must be a JWK, or PKCS#8 as base64 or PEM');
    privateKey = await importOrExplain('pkcs8', new Uint8Array(Buffer.from(body, 'base64')));
  }
  // The public half comes from the private key itself, so the two can never disagree.
  const exported = (await crypto.subtle.exportKey('jwk', privateKey)) as JsonWebKey;
  const publicKey = new Uint8Array(Buffer.from(exported.x ?? '', 'base64url'));
  if (publicKey.length !== 32) throw new SigningKeyError('AUDIT_SIGNING_KEY has no usable Ed25519 public key');
  const signer = await crypto.subtle.importKey('jwk', { ...exported, key_ops: ['sign'] }, { name: 'Ed25519' }, false, ['sign']);
  const id = kid ?? configuredId ?? `ed25519-${nodeCrypto.createHash('sha256').update(publicKey).digest('hex').slice(0, 12)}`;
  if (!/^[\w.:-]{1,64}$/.test(id)) throw new SigningKeyError('the signing key id must be 1-64 characters of [A-Za-z0-9_.:-]');
  return {
    id,
    publicKey,
    sign: async (message) => new Uint8Array(await crypto.subtle.sign('Ed25519', signer, message as Uint8Array<ArrayBuffer>)),
  };
}

async function importOrExplain(format: 'jwk' | 'pkcs8', data: JsonWebKey | Uint8Array): Promise<CryptoKey> {
  try {
    // Extractable only for the moment it takes to read the public half; the signer is imported again below.
    return format === 'jwk'
      ? await crypto.subtle.importKey('jwk', data as JsonWebKey, { name: 'Ed25519' }, true, ['sign'])
      : await crypto.subtle.importKey('pkcs8', data as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, true, ['sign']);
  } catch {
    throw new SigningKeyError(`AUDIT_SIGNING_KEY is not a valid Ed25519 private key (${format === 'jwk' ? 'JWK' : 'PKCS#8'})`);
  }
}

/** `text` as a signed note (c2sp.org/signed-note) with one signature, under the key name `name`. */
export async function signNote(text: string, name: string, key: SigningKey): Promise<string> {
  const signature = await key.sign(new TextEncoder().encode(text));
  return `${text}\n${formatSignatureLine(name, ed25519KeyId(name, key.publicKey), signature)}`;
}

/** The checkpoint as a signed note, signed under the log's origin (as tlog-checkpoint recommends). */
export function signCheckpoint(checkpoint: Checkpoint, key: SigningKey): Promise<string> {
  return signNote(checkpointText(checkpoint), checkpoint.origin, key);
}

export function verifierKeyFor(origin: string, key: { publicKey: Uint8Array }): string {
  return formatVerifierKey(origin, key.publicKey);
}
