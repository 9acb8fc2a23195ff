import { Buffer } from 'node:buffer';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NoteError,
  checkpointText,
  formatSignatureLine,
  formatVerifierKey,
  openCheckpoint,
  openNote,
  parseCheckpointText,
  parseVerifierKey,
  ed25519KeyId,
} from './checkpoint';
import { hashLeaf } from './merkle';
import { loadSigningKey, signCheckpoint, SigningKeyError } from './signing-key';

// The example of golang.org/x/mod/sumdb/note (note.go, note_test.go): a known key pair and the note
// it signs. Ed25519 is deterministic, so signing the same text must give the same bytes.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

/** PKCS#8 of an Ed25519 seed (RFC 8410's fixed 16-byte prefix), as AUDIT_SIGNING_KEY takes it. */
function pkcs8FromSeed(seed: Uint8Array): string {
  return Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]).toString('base64');
}

const goSeed = Buffer.from(GO_SKEY.split('+').slice(4).join('+'), 'base64').subarray(1);

describe('signed notes (C2SP signed-note)', () => {
  it('reproduces the Go sumdb/note example byte for byte', async () => {
    const key = await loadSigningKey(pkcs8FromSeed(goSeed));
    expect(formatVerifierKey('PeterNeumann', key.publicKey)).toBe(GO_VKEY);
    const signature = await key.sign(new TextEncoder().encode(GO_TEXT));
    expect(`${GO_TEXT}\n${formatSignatureLine('PeterNeumann', ed25519KeyId('PeterNeumann', key.publicKey), signature)}`).toBe(GO_NOTE);
  });

  it('opens the example with its verifier key, and refuses any change', () => {
    const vkey = parseVerifierKey(GO_VKEY);
    expect(openNote(GO_NOTE, [vkey]).text).toBe(GO_TEXT);
    expect(() => openNote(GO_NOTE.replace('cryptography', 'cryptographY'), [vkey])).toThrow(/does not verify/);
    expect(() => openNote(GO_NOTE.replace('x08go/', 'x08go+'), [vkey])).toThrow(NoteError);
  });

  it('ignores signatures from unknown keys, and needs one from a trusted key', () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    const stranger = parseVerifierKey(formatVerifierKey('PeterNeumann', Buffer.from(other, 'base64url')));
    expect(() => openNote(GO_NOTE, [stranger])).toThrow(/no signature from a trusted key \(signed by PeterNeumann\+c74f20a3\)/);
  });

  it('parses verifier keys whose base64 holds a "+", and rejects a wrong key id', () => {
    expect(parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6').name).toBe('TEST');
    expect(() => parseVerifierKey(GO_VKEY.replace('c74f20a3', 'c74f20a4'))).toThrow(/does not match/);
    expect(() => parseVerifierKey('PeterNeumann+c74f20a3')).toThrow(NoteError);
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const root = hashLeaf('x');

  it('is origin, size and base64 root, one per line', () => {
    const text = checkpointText({ origin: 'example.com/audit/t1', size: 42, root });
    expect(text).toBe(`example.com/audit/t1\n42\n${Buffer.from(root).toString('base64')}\n`);
    expect(parseCheckpointText(text)).toEqual({ origin: 'example.com/audit/t1', size: 42, root: new Uint8Array(root) });
  });

  it('rejects leading zeros, extension lines, short roots and spaces in the origin', () => {
    const b = Buffer.from(root).toString('base64');
    expect(() => parseCheckpointText(`o\n042\n${b}\n`)).toThrow(/decimal/);
    expect(() => parseCheckpointText(`o\n42\n${b}\next\n`)).toThrow(/three lines/);
    expect(() => parseCheckpointText(`o\n42\nAAAA\n`)).toThrow(/32 bytes/);
    expect(() => checkpointText({ origin: 'a b', size: 1, root })).toThrow(NoteError);
  });

  it('signs with a JWK or PKCS#8 key (the same id either way) and opens with the verifier key', async () => {
    const pair = generateKeyPairSync('ed25519');
    const jwk = pair.privateKey.export({ format: 'jwk' });
    const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const fromJwk = await loadSigningKey(JSON.stringify(jwk));
    const fromPkcs8 = await loadSigningKey(pkcs8);
    expect(fromJwk.id).toBe(fromPkcs8.id);
    expect(fromJwk.id).toMatch(/^ed25519-[0-9a-f]{12}$/);
    expect((await loadSigningKey(JSON.stringify({ ...jwk, kid: 'audit-2026' }))).id).toBe('audit-2026');
    expect((await loadSigningKey(pkcs8, 's2')).id).toBe('s2');

    const note = await signCheckpoint({ origin: 'agentrunbook/audit/t1', size: 7, root }, fromPkcs8);
    const vkey = parseVerifierKey(formatVerifierKey('agentrunbook/audit/t1', fromJwk.publicKey));
    expect(openCheckpoint(note, [vkey])).toMatchObject({ origin: 'agentrunbook/audit/t1', size: 7 });
    expect(() => openCheckpoint(note.replace('\n7\n', '\n8\n'), [vkey])).toThrow(/does not verify/);
  });

  it('explains a bad key without echoing it', async () => {
    await expect(loadSigningKey('{"kty":"RSA"}')).rejects.toThrow(SigningKeyError);
    await expect(loadSigningKey('not-a-key!')).rejects.toThrow(/JWK, or PKCS#8/);
    const err = await loadSigningKey('AAAAsecretlookingbase64AAAA').catch((e: Error) => e);
    expect(String(err)).not.toContain('secretlooking');
  });
});
