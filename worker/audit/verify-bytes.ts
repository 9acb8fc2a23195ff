/**
 * The verifier's hot path, on the bytes of an export line: reading an entry's fields without
 * JSON.parse, HMAC-SHA256 and the tree's right edge on reused buffers, hashes carried as latin1
 * strings (one character per byte), which cost the garbage collector far less than a Buffer each.
 * At hundreds of thousands of entries a second, each allocation shows.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import type { Hash } from './merkle';

const ENTRY_PREFIX = Buffer.from('{"action":"');
const HASH_NEEDLE = Buffer.from(',"hash":"');
const oneShot = (nodeCrypto as unknown as { hash?: (alg: string, data: Uint8Array, enc: 'hex' | 'latin1') => string }).hash;

export interface ParsedEntry {
  seq: number;
  tenant: string;
  keyId: string;
  prevHash: string;
  hash: string;
}

/**
 * SHA-256 as a string: hex, or latin1 (one character per byte). Latin1 strings carry hashes through
 * the hot loop because they cost the garbage collector far less than a Buffer per hash.
 */
function sha256(data: Uint8Array, enc: 'hex' | 'latin1'): string {
  return oneShot ? oneShot('sha256', data, enc) : nodeCrypto.createHash('sha256').update(data).digest(enc === 'latin1' ? 'binary' : 'hex');
}

/** The RFC 6962 tree's right edge (as merkle.ts's CompactTree), on latin1 hash strings. */
export class FastTree {
  private readonly frontier: (string | undefined)[] = [];
  private readonly scratch = Buffer.alloc(65);
  size = 0;

  private node(left: string, right: string): string {
    this.scratch[0] = 1;
    this.scratch.write(left, 1, 'latin1');
    this.scratch.write(right, 33, 'latin1');
    return sha256(this.scratch, 'latin1');
  }

  add(leaf: string): void {
    let hash = leaf;
    let level = 0;
    for (let n = this.size; n % 2 === 1; n = Math.floor(n / 2)) {
      hash = this.node(this.frontier[level]!, hash);
      this.frontier[level++] = undefined;
    }
    this.frontier[level] = hash;
    this.size++;
  }

  root(): Hash {
    let root: string | undefined;
    for (const node of this.frontier) if (node !== undefined) root = root === undefined ? node : this.node(node, root);
    return root === undefined ? new Uint8Array(Buffer.from(sha256(new Uint8Array(0), 'latin1'), 'latin1')) : new Uint8Array(Buffer.from(root, 'latin1'));
  }
}

/** HMAC-SHA256 with the pads computed once per key, on reused buffers (createHmac per entry is slower). */
export class Hmac {
  private readonly ipad = Buffer.alloc(64, 0x36);
  private readonly outer = Buffer.alloc(96, 0x5c);
  private inner = Buffer.alloc(4096);

  constructor(secret: string) {
    let key = Buffer.from(secret, 'utf8');
    if (key.length > 64) key = nodeCrypto.createHash('sha256').update(key).digest();
    for (let i = 0; i < key.length; i++) {
      this.ipad[i]! ^= key[i]!;
      this.outer[i]! ^= key[i]!;
    }
    this.ipad.copy(this.inner, 0);
  }

  /** HMAC of `prefix` (ASCII) followed by the byte ranges given, as hex. */
  hex(prefix: string, src: Buffer, ranges: number[]): string {
    let n = 64 + prefix.length;
    for (let i = 0; i < ranges.length; i += 2) n += ranges[i + 1]! - ranges[i]!;
    if (n > this.inner.length) {
      this.inner = Buffer.alloc(n * 2);
      this.ipad.copy(this.inner, 0);
    }
    let at = 64 + this.inner.write(prefix, 64, 'latin1');
    for (let i = 0; i < ranges.length; i += 2) at += src.copy(this.inner, at, ranges[i]!, ranges[i + 1]!);
    this.outer.write(sha256(this.inner.subarray(0, at), 'latin1'), 64, 'latin1');
    return sha256(this.outer, 'hex');
  }
}

/**
 * An entry's fields read straight from its canonical bytes, or undefined to send the line the
 * careful way (JSON.parse). `hp` is where `,"hash":"` starts: the HMAC covers the line without it.
 * The hash member is found from the end: after it come only key_id, prev_hash, resource, seq,
 * tenant and ts, whose strings cannot hold an unescaped quote, so the last match is the real one.
 */
export function readEntryBytes(buf: Buffer, start: number, end: number): (ParsedEntry & { hp: number }) | undefined {
  if (end - start <= 75 || buf.compare(ENTRY_PREFIX, 0, ENTRY_PREFIX.length, start, start + ENTRY_PREFIX.length) !== 0) return undefined;
  const hp = buf.lastIndexOf(HASH_NEEDLE, end - 1);
  if (hp < start || hp + 75 > end || buf[hp + 73] !== 0x22 || buf[hp + 74] !== 0x2c) return undefined;
  const hash = buf.toString('latin1', hp + 9, hp + 73);
  const t = buf.toString('utf8', hp + 75, end);
  if (!t.startsWith('"key_id":"')) return undefined;
  const ke = t.indexOf('"', 10);
  if (ke < 0 || !t.startsWith('","prev_hash":"', ke)) return undefined;
  const keyId = t.slice(10, ke);
  const prevHash = t.slice(ke + 15, ke + 79);
  if (!t.startsWith('","resource":{', ke + 79)) return undefined;
  const sp = t.lastIndexOf(',"seq":');
  const te = t.indexOf(',"tenant":"', sp);
  if (sp < ke + 93 || te < 0) return undefined;
  const seqText = t.slice(sp + 7, te);
  const tsAt = t.indexOf('","ts":"', te + 11);
  if (tsAt < 0 || !t.endsWith('"}')) return undefined;
  const tenant = t.slice(te + 11, tsAt);
  const ts = t.slice(tsAt + 8, t.length - 2);
  // The hash's own form needs no check here: the HMAC or the tree covers every byte of the line.
  if (!/^[1-9][0-9]{0,15}$/.test(seqText) || /["\\]/.test(keyId + tenant + ts)) return undefined;
  return { seq: Number(seqText), tenant, keyId, prevHash, hash, hp };
}

/**
 * Leaf hashes, SHA-256(0x00 ‖ line). The byte before a line is its predecessor's newline: it is set
 * to 0x00 for the hash and put back, which saves copying every entry (a buffer's first line is copied).
 */
export class LeafHasher {
  private scratch = Buffer.alloc(4096);

  hash(buf: Buffer, start: number, end: number): string {
    if (start > 0) {
      const before = buf[start - 1]!;
      buf[start - 1] = 0;
      try {
        return sha256(buf.subarray(start - 1, end), 'latin1');
      } finally {
        buf[start - 1] = before;
      }
    }
    const len = end - start;
    if (len + 1 > this.scratch.length) this.scratch = Buffer.alloc(len * 2);
    this.scratch[0] = 0;
    buf.copy(this.scratch, 1, start, end);
    return sha256(this.scratch.subarray(0, len + 1), 'latin1');
  }
}
