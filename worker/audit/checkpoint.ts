/**
 * Signed checkpoints in the C2SP formats (c2sp.org/tlog-checkpoint, c2sp.org/signed-note):
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(key ID ‖ Ed25519 signature)>\n
 *
 * The key ID is SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4], and a verifier key is
 * written `<name>+<hex key ID>+<base64(0x01 ‖ public key)>` — the same strings Go's sumdb/note and
 * the transparency-dev tools use, so any of them can check these checkpoints too.
 *
 * Verification uses node:crypto (synchronous), so it runs in the offline verifier, in the tests
 * and in workerd alike; signing is in signing-key.ts (WebCrypto, inside the Worker).
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import type { Hash } from './merkle';

const ED25519 = 0x01;
const EM_DASH_PREFIX = '\u2014 ';

export class NoteError extends Error {
  override name = 'NoteError';
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Hash;
}

export interface NoteSignature {
  name: string;
  /** The 4-byte key ID, big-endian, as 8 hex digits. */
  keyId: string;
  signature: Uint8Array;
}

export interface VerifierKey {
  name: string;
  keyId: string;
  publicKey: Uint8Array;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function fromB64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new NoteError(`${what} is not standard base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Key names and origins: non-empty, no spaces, no plus, no control characters. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0000-\u001f\u007f]/u.test(name);
}

export function checkpointText(c: Checkpoint): string {
  if (!isValidKeyName(c.origin)) throw new NoteError('origin must be non-empty without spaces or "+"');
  return `${c.origin}\n${c.size}\n${b64(c.root)}\n`;
}

/** Parses checkpoint text strictly (three lines; no extension lines, which this log never writes). */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new NoteError('a checkpoint is exactly three lines: origin, tree size, root hash');
  const [origin, size, root] = lines as [string, string, string];
  if (!isValidKeyName(origin)) throw new NoteError('checkpoint origin is empty or has spaces or "+"');
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new NoteError(`checkpoint tree size "${size}" is not a decimal number`);
  const rootBytes = fromB64(root, 'checkpoint root hash');
  if (rootBytes.length !== 32) throw new NoteError('checkpoint root hash is not 32 bytes');
  return { origin, size: Number(size), root: rootBytes };
}

export function ed25519KeyId(name: string, publicKey: Uint8Array): string {
  const digest = nodeCrypto
    .createHash('sha256')
    .update(name, 'utf8')
    .update(new Uint8Array([0x0a, ED25519]))
    .update(publicKey)
    .digest();
  return digest.subarray(0, 4).toString('hex');
}

export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError('key name must be non-empty without spaces or "+"');
  return `${name}+${ed25519KeyId(name, publicKey)}+${b64(new Uint8Array([ED25519, ...publicKey]))}`;
}

export function parseVerifierKey(vkey: string): VerifierKey {
  // The name has no "+", the base64 may: split on the first two only.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new NoteError('a verifier key is <name>+<key id>+<base64 key>');
  const name = vkey.slice(0, first);
  const keyId = vkey.slice(first + 1, second);
  if (!isValidKeyName(name)) throw new NoteError('verifier key name has spaces or control characters');
  if (!/^[0-9a-f]{8}$/.test(keyId)) throw new NoteError('verifier key id is not 8 hex digits');
  const raw = fromB64(vkey.slice(second + 1), 'verifier key');
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteError('only Ed25519 verifier keys (type 0x01, 32 bytes) are supported');
  const publicKey = raw.slice(1);
  if (ed25519KeyId(name, publicKey) !== keyId) throw new NoteError('verifier key id does not match its name and key');
  return { name, keyId, publicKey };
}

export function formatSignatureLine(name: string, keyId: string, signature: Uint8Array): string {
  return `${EM_DASH_PREFIX}${name} ${b64(new Uint8Array([...Buffer.from(keyId, 'hex'), ...signature]))}\n`;
}

/** Splits a signed note into its text (with the final newline) and its signature lines. */
export function parseSignedNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new NoteError('note has control characters');
  if (!note.endsWith('\n')) throw new NoteError('note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > 16) throw new NoteError('note has more than 16 signatures');
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(EM_DASH_PREFIX)) throw new NoteError('signature line does not start with "— "');
    const rest = line.slice(EM_DASH_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space <= 0) throw new NoteError('signature line has no key name');
    const name = rest.slice(0, space);
    const blob = fromB64(rest.slice(space + 1), 'signature');
    if (blob.length < 5) throw new NoteError('signature is too short');
    return { name, keyId: Buffer.from(blob.subarray(0, 4)).toString('hex'), signature: blob.slice(4) };
  });
  return { text, signatures };
}

const keyObjects = new Map<string, nodeCrypto.KeyObject>();

function publicKeyObject(publicKey: Uint8Array): nodeCrypto.KeyObject {
  const x = Buffer.from(publicKey).toString('base64url');
  let key = keyObjects.get(x);
  if (!key) {
    key = nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    keyObjects.set(x, key);
  }
  return key;
}

export function verifyEd25519(message: string, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return nodeCrypto.verify(null, Buffer.from(message, 'utf8'), publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * Opens a signed note against trusted keys, as the signed-note spec says: signatures from unknown
 * keys are ignored, a known key whose signature fails rejects the note, and at least one known key
 * must have signed. Returns the text and the keys that signed it.
 */
export function openNote(note: string, trusted: VerifierKey[]): { text: string; signedBy: VerifierKey[] } {
  const { text, signatures } = parseSignedNote(note);
  const signedBy: VerifierKey[] = [];
  for (const sig of signatures) {
    const key = trusted.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!key) continue;
    if (!verifyEd25519(text, sig.signature, key.publicKey)) throw new NoteError(`signature by ${sig.name}+${sig.keyId} does not verify`);
    signedBy.push(key);
  }
  if (signedBy.length === 0) {
    const by = signatures.map((s) => `${s.name}+${s.keyId}`).join(', ');
    throw new NoteError(`no signature from a trusted key (signed by ${by || 'nobody'})`);
  }
  return { text, signedBy };
}

/** A checkpoint note, opened and parsed; throws NoteError with the reason it cannot be trusted. */
export function openCheckpoint(note: string, trusted: VerifierKey[]): Checkpoint & { signedBy: VerifierKey[] } {
  const { text, signedBy } = openNote(note, trusted);
  return { ...parseCheckpointText(text), signedBy };
}
