/**
 * RFC 6962 (§2.1) Merkle tree hashing and proofs, with the verification algorithms of RFC 9162
 * (§2.1.3.2 and §2.1.4.2). Synchronous, on node:crypto, so the same code runs in the audit log's
 * Durable Object (workerd with nodejs_compat), in the offline verifier and in the tests.
 *
 *   leaf hash = SHA-256(0x00 ‖ entry bytes)     node hash = SHA-256(0x01 ‖ left ‖ right)
 *
 * Nodes are addressed by (level, index): level 0 holds the leaf hashes, and node (l, i) is the root
 * of the perfect subtree over leaves [i·2^l, (i+1)·2^l). Only such perfect nodes are ever stored;
 * every other hash a proof needs is folded from them.
 */
import * as nodeCrypto from 'node:crypto';

export type Hash = Uint8Array;

const LEAF_PREFIX = new Uint8Array([0]);
const encoder = new TextEncoder();
// One-shot `crypto.hash` (Node ≥ 20.12, workerd) avoids an object per hash; createHash elsewhere.
const oneShot = (nodeCrypto as unknown as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Uint8Array }).hash;
const nodeScratch = new Uint8Array(65);

function sha256(...parts: Uint8Array[]): Hash {
  const h = nodeCrypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Hash = sha256();

export function hashLeaf(data: Uint8Array | string): Hash {
  return sha256(LEAF_PREFIX, typeof data === 'string' ? encoder.encode(data) : data);
}

export function hashChildren(left: Hash, right: Hash): Hash {
  if (oneShot) {
    nodeScratch[0] = 1;
    nodeScratch.set(left, 1);
    nodeScratch.set(right, 33);
    return oneShot('sha256', nodeScratch, 'buffer');
  }
  return sha256(new Uint8Array([1]), left, right);
}

/** The largest power of two strictly below `n` (n ≥ 2): RFC 6962's split point `k`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Reads the hash of a stored perfect node; throws when the store does not have it. */
export type NodeReader = (level: number, index: number) => Hash;

/** A node that a tree update created: leaves (level 0) and every perfect node completed by them. */
export interface NewNode {
  level: number;
  index: number;
  hash: Hash;
}

/**
 * The right edge of a tree: the perfect subtrees whose sizes are the set bits of `size`. Appending
 * a leaf merges equal-sized subtrees, so the root of any size is known without the rest of the tree.
 */
export class CompactTree {
  private constructor(
    private _size: number,
    /** `frontier[l]` is the root of the perfect subtree of 2^l leaves on the right edge, when bit l of size is set. */
    private readonly frontier: (Hash | undefined)[],
  ) {}

  static empty(): CompactTree {
    return new CompactTree(0, []);
  }

  /** Rebuilds the frontier of a tree of `size` leaves from its stored perfect nodes. */
  static load(size: number, read: NodeReader): CompactTree {
    const frontier: (Hash | undefined)[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      if (Math.floor(size / 2 ** level) % 2 === 1) frontier[level] = read(level, Math.floor(size / 2 ** level) - 1);
    }
    return new CompactTree(size, frontier);
  }

  get size(): number {
    return this._size;
  }

  /** Adds a leaf hash; returns the leaf and the perfect nodes it completed, to be stored. */
  append(leaf: Hash): NewNode[] {
    const created: NewNode[] = [{ level: 0, index: this._size, hash: leaf }];
    let hash = leaf;
    let level = 0;
    let n = this._size;
    while (n % 2 === 1) {
      hash = hashChildren(this.frontier[level]!, hash);
      this.frontier[level] = undefined;
      n = Math.floor(n / 2);
      level++;
      created.push({ level, index: n, hash });
    }
    this.frontier[level] = hash;
    this._size++;
    return created;
  }

  /** Adds a leaf hash without listing the nodes it completed (the verifier's path: nothing is stored). */
  add(leaf: Hash): void {
    let hash = leaf;
    let level = 0;
    let n = this._size;
    while (n % 2 === 1) {
      hash = hashChildren(this.frontier[level]!, hash);
      this.frontier[level] = undefined;
      n = Math.floor(n / 2);
      level++;
    }
    this.frontier[level] = hash;
    this._size++;
  }

  /** The tree head: subtrees folded right to left (the smallest is the rightmost). */
  root(): Hash {
    let root: Hash | undefined;
    for (let level = 0; level < this.frontier.length; level++) {
      const node = this.frontier[level];
      if (node) root = root ? hashChildren(node, root) : node;
    }
    return root ?? EMPTY_ROOT;
  }

  clone(): CompactTree {
    return new CompactTree(this._size, [...this.frontier]);
  }
}

/** MTH(D[lo:hi]) of the tree in `read`, where lo is aligned to the largest power of two below hi − lo. */
export function subtreeHash(read: NodeReader, lo: number, hi: number): Hash {
  const n = hi - lo;
  if (n <= 0) throw new RangeError(`empty range [${lo}, ${hi})`);
  if ((n & (n - 1)) === 0 && lo % n === 0) return read(Math.log2(n), lo / n);
  const k = splitPoint(n);
  return hashChildren(subtreeHash(read, lo, lo + k), subtreeHash(read, lo + k, hi));
}

/** RFC 6962 PATH(m, D[n]): the audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionProof(read: NodeReader, index: number, size: number): Hash[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path: Hash[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(subtreeHash(read, lo + k, hi));
    } else {
      walk(m - k, lo + k, hi);
      path.push(subtreeHash(read, lo, lo + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/** RFC 6962 PROOF(m, D[n]): proves the tree of `m` leaves is a prefix of the tree of `n` leaves. */
export function consistencyProof(read: NodeReader, m: number, n: number): Hash[] {
  if (!(m >= 1 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  const proof: Hash[] = [];
  const sub = (m: number, lo: number, hi: number, complete: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!complete) proof.push(subtreeHash(read, lo, hi));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, lo, lo + k, complete);
      proof.push(subtreeHash(read, lo + k, hi));
    } else {
      sub(m - k, lo + k, hi, false);
      proof.push(subtreeHash(read, lo, lo + k));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Why a proof did not verify. */
export class ProofError extends Error {
  override name = 'ProofError';
}

/** RFC 9162 §2.1.3.2: the root that an inclusion proof leads to; throws when the proof is malformed. */
export function rootFromInclusionProof(index: number, size: number, leaf: Hash, proof: Hash[]): Hash {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new ProofError(`leaf index ${index} is not below tree size ${size}`);
  }
  if (leaf.length !== 32) throw new ProofError('leaf hash is not 32 bytes');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32) throw new ProofError('proof element is not 32 bytes');
    if (sn === 0) throw new ProofError('proof is longer than the path');
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('proof is shorter than the path');
  return r;
}

export function verifyInclusion(index: number, size: number, leaf: Hash, proof: Hash[], root: Hash): void {
  if (!equalHashes(rootFromInclusionProof(index, size, leaf, proof), root)) throw new ProofError('inclusion proof leads to a different root');
}

/** RFC 9162 §2.1.4.2: throws unless `proof` shows the tree (size1, root1) is a prefix of (size2, root2). */
export function verifyConsistency(size1: number, size2: number, root1: Hash, root2: Hash, proof: Hash[]): void {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 >= 0 && size2 >= size1)) {
    throw new ProofError(`tree size ${size2} is smaller than ${size1}`);
  }
  if (size1 === size2) {
    if (proof.length > 0) throw new ProofError('proof between equal sizes must be empty');
    if (!equalHashes(root1, root2)) throw new ProofError('roots of equal sizes differ');
    return;
  }
  if (size1 === 0) {
    if (proof.length > 0) throw new ProofError('proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) throw new ProofError('proof is empty');
  for (const p of proof) if (p.length !== 32) throw new ProofError('proof element is not 32 bytes');
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError('proof is longer than needed');
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('proof is shorter than needed');
  if (!equalHashes(fr, root1)) throw new ProofError('proof does not lead to the first root');
  if (!equalHashes(sr, root2)) throw new ProofError('proof does not lead to the second root');
}

export function toHexHash(h: Uint8Array): string {
  let out = '';
  for (const b of h) out += b.toString(16).padStart(2, '0');
  return out;
}

export function fromHexHash(hex: string): Hash {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ProofError('a hash is 64 lowercase hex digits');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
