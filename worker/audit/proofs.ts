/**
 * The audit log's answers about its tree, as JSON views: inclusion and consistency proofs
 * (RFC 6962, hashes in hex), checkpoints and the public keys that signed them. Invalid requests
 * come back as a `problem` naming the query field, which the route turns into a 400.
 */
import { Buffer } from 'node:buffer';
import { formatVerifierKey } from './checkpoint';
import { consistencyProof, inclusionProof, subtreeHash, toHexHash } from './merkle';
import type { Loaded } from './writer';
import type { AuditStore, StoredCheckpoint, StoredSigningKey } from './store';

export type Answer<T> = { ok: true; value: T } | { ok: false; code: 'validation_failed' | 'not_found'; path?: string; message: string };

export interface CheckpointView {
  tree_size: number;
  root_hash: string;
  ts: string;
  key_id: string;
  /** The signed note (c2sp.org/tlog-checkpoint), verbatim. */
  note: string;
}

export interface SigningKeyView {
  key_id: string;
  algorithm: 'Ed25519';
  /** The raw 32-byte public key, base64. */
  public_key: string;
  /** The note verifier key (`<name>+<key id>+<base64>`), what `npm run audit:verify -- --public-key` takes. */
  vkey: string;
  added_at: string;
  added_at_tree_size: number;
}

export interface InclusionView {
  seq: number;
  tree_size: number;
  leaf_index: number;
  leaf_hash: string;
  root_hash: string;
  proof: string[];
  /** The signed checkpoint of exactly this tree size, when there is one. */
  checkpoint?: CheckpointView;
}

export interface ConsistencyView {
  from: number;
  to: number;
  from_root: string;
  to_root: string;
  proof: string[];
}

export function checkpointView(c: StoredCheckpoint): CheckpointView {
  return { tree_size: c.size, root_hash: toHexHash(c.root), ts: c.ts, key_id: c.keyId, note: c.note };
}

export function signingKeyView(origin: string, k: StoredSigningKey): SigningKeyView {
  return {
    key_id: k.keyId,
    algorithm: 'Ed25519',
    public_key: Buffer.from(k.publicKey).toString('base64'),
    vkey: formatVerifierKey(origin, k.publicKey),
    added_at: k.addedAt,
    added_at_tree_size: k.addedAtSize,
  };
}

const invalid = (path: string, message: string) => ({ ok: false as const, code: 'validation_failed' as const, path, message });

export function inclusion(store: AuditStore, { tree }: Loaded, seq: number, treeSize: number | undefined): Answer<InclusionView> {
  const size = treeSize ?? tree.size;
  if (tree.size === 0) return { ok: false, code: 'not_found', message: 'The audit log is empty' };
  if (size > tree.size) return invalid('query.tree_size', `is larger than the log (${tree.size} entries)`);
  if (seq > size) return invalid('query.seq', `must be at most the tree size (${size})`);
  const checkpoint = store.checkpointAt(size);
  return {
    ok: true,
    value: {
      seq,
      tree_size: size,
      leaf_index: seq - 1,
      leaf_hash: toHexHash(store.node(0, seq - 1)),
      root_hash: toHexHash(subtreeHash(store.node, 0, size)),
      proof: inclusionProof(store.node, seq - 1, size).map(toHexHash),
      ...(checkpoint ? { checkpoint: checkpointView(checkpoint) } : {}),
    },
  };
}

export function consistency(store: AuditStore, { tree }: Loaded, from: number, to: number | undefined): Answer<ConsistencyView> {
  const size = to ?? tree.size;
  if (tree.size === 0) return { ok: false, code: 'not_found', message: 'The audit log is empty' };
  if (size > tree.size) return invalid('query.to', `is larger than the log (${tree.size} entries)`);
  if (from > size) return invalid('query.from', `must be at most "to" (${size})`);
  return {
    ok: true,
    value: {
      from,
      to: size,
      from_root: toHexHash(subtreeHash(store.node, 0, from)),
      to_root: toHexHash(subtreeHash(store.node, 0, size)),
      proof: consistencyProof(store.node, from, size).map(toHexHash),
    },
  };
}
