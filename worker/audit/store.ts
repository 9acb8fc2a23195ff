/**
 * The audit log's own state in its Durable Object's SQLite storage: the chain head, every perfect
 * node of the Merkle tree (for proofs), the outbox of entries not yet copied to D1, the source key
 * of every entry (so a retried append is recognised without asking D1), the signed checkpoints and
 * the public signing keys ever used. D1 holds the entries for queries; this
 * storage is what decides what the log contains, so someone who edits D1 cannot move the tree.
 */
import type { AuditEntry } from './chain';
import type { Hash, NewNode, NodeReader } from './merkle';

export interface AuditHead {
  tenant: string;
  /** Entries in the log (= the last seq = the tree size). */
  size: number;
  /** HMAC of the last entry (the next entry's prev_hash). */
  hash: string;
  /** HMAC key id of the last entry, to notice a rotation. */
  keyId: string | null;
  /** Entries that were already in D1 when this storage was first built (adopted, not written here). */
  adopted: number;
  /** Epoch ms of the first entry after the latest checkpoint, or null when all are checkpointed. */
  pendingSince: number | null;
}

export interface OutboxRow {
  entry: AuditEntry;
  sourceKey: string | null;
}

export interface StoredCheckpoint {
  size: number;
  root: Hash;
  ts: string;
  keyId: string;
  note: string;
}

export interface StoredSigningKey {
  keyId: string;
  publicKey: Uint8Array;
  addedAt: string;
  /** The tree size when the key was first seen. */
  addedAtSize: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), tenant TEXT NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL, key_id TEXT, adopted INTEGER NOT NULL DEFAULT 0, pending_since INTEGER)`,
  `CREATE TABLE IF NOT EXISTS tree_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, source_key TEXT, entry TEXT NOT NULL)`,
  // Duplicates are found in source_keys now; the outbox's old index on them would only cost writes.
  `DROP INDEX IF EXISTS outbox_source_key`,
  `CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, ts TEXT NOT NULL, key_id TEXT NOT NULL, note TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS signing_keys (key_id TEXT PRIMARY KEY, public_key BLOB NOT NULL, added_at TEXT NOT NULL, added_at_size INTEGER NOT NULL)`,
  // The key is unique: a duplicate can never be committed, whatever the writer believed.
  `CREATE TABLE IF NOT EXISTS source_keys (source_key TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID`,
  // One row once source_keys holds the key of every entry: a log written before that table existed
  // (or adopted from D1) has none until it is filled in from D1 and the outbox (source-keys.ts).
  `CREATE TABLE IF NOT EXISTS source_keys_complete (id INTEGER PRIMARY KEY CHECK (id = 1), since TEXT NOT NULL)`,
];

type Row = Record<string, ArrayBuffer | string | number | null>;

const blob = (h: Uint8Array) => new Uint8Array(h); // a copy: never bind a view into a larger buffer

export class AuditStore {
  // Read on every append, written rarely: kept in memory. This store is its object's only reader
  // and writer of these tables (`forget` is for a test that writes them behind its back).
  private keysCache: StoredSigningKey[] | undefined;
  private latestCache: { checkpoint: StoredCheckpoint | undefined } | undefined;

  constructor(private readonly storage: DurableObjectStorage) {
    for (const statement of SCHEMA) storage.sql.exec(statement);
  }

  forget(): void {
    this.keysCache = undefined;
    this.latestCache = undefined;
  }

  private rows<T extends Row>(query: string, ...bindings: unknown[]): T[] {
    return this.storage.sql.exec<T>(query, ...bindings).toArray();
  }

  head(): AuditHead | undefined {
    const [r] = this.rows<{ tenant: string; size: number; hash: string; key_id: string | null; adopted: number; pending_since: number | null }>('SELECT * FROM audit_head WHERE id = 1');
    return r ? { tenant: r.tenant, size: r.size, hash: r.hash, keyId: r.key_id, adopted: r.adopted, pendingSince: r.pending_since } : undefined;
  }

  readonly node: NodeReader = (level, index) => {
    const [r] = this.rows<{ hash: ArrayBuffer }>('SELECT hash FROM tree_nodes WHERE level = ? AND idx = ?', level, index);
    if (!r) throw new Error(`audit tree node (${level}, ${index}) is missing from storage`);
    return new Uint8Array(r.hash);
  };

  /** Leaf hashes of entries `fromSeq`… in order (seq n is leaf n − 1). */
  leafHashes(fromSeq: number, limit: number): Hash[] {
    return this.rows<{ hash: ArrayBuffer }>('SELECT hash FROM tree_nodes WHERE level = 0 AND idx >= ? ORDER BY idx LIMIT ?', fromSeq - 1, limit).map((r) => new Uint8Array(r.hash));
  }

  /** Writes new entries (outbox) and their source keys, their tree nodes, new keys and the head in one transaction. */
  commit(head: AuditHead, nodes: NewNode[], outbox: OutboxRow[], keys: StoredSigningKey[] = []): void {
    this.storage.transactionSync(() => {
      for (const n of nodes) this.storage.sql.exec('INSERT INTO tree_nodes (level, idx, hash) VALUES (?, ?, ?)', n.level, n.index, blob(n.hash));
      for (const o of outbox) {
        this.storage.sql.exec('INSERT INTO outbox (seq, source_key, entry) VALUES (?, ?, ?)', o.entry.seq, o.sourceKey, JSON.stringify(o.entry));
        if (o.sourceKey !== null) this.storage.sql.exec('INSERT INTO source_keys (source_key, seq) VALUES (?, ?)', o.sourceKey, o.entry.seq);
      }
      for (const k of keys) this.storage.sql.exec('INSERT INTO signing_keys (key_id, public_key, added_at, added_at_size) VALUES (?, ?, ?, ?)', k.keyId, blob(k.publicKey), k.addedAt, k.addedAtSize);
      this.writeHead(head);
    });
    if (keys.length) this.keysCache = undefined;
  }

  setHead(head: AuditHead): void {
    this.writeHead(head);
  }

  private writeHead(h: AuditHead): void {
    this.storage.sql.exec(
      'INSERT OR REPLACE INTO audit_head (id, tenant, size, hash, key_id, adopted, pending_since) VALUES (1, ?, ?, ?, ?, ?, ?)',
      h.tenant,
      h.size,
      h.hash,
      h.keyId,
      h.adopted,
      h.pendingSince,
    );
  }

  outbox(limit: number): OutboxRow[] {
    return this.rows<{ source_key: string | null; entry: string }>('SELECT source_key, entry FROM outbox ORDER BY seq LIMIT ?', limit).map((r) => ({
      sourceKey: r.source_key,
      entry: JSON.parse(r.entry) as AuditEntry,
    }));
  }

  outboxSize(): number {
    return this.rows<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n;
  }

  /** The seq of the oldest entry not yet copied to D1, or undefined when D1 has them all. */
  outboxFirstSeq(): number | undefined {
    return this.rows<{ seq: number | null }>('SELECT min(seq) AS seq FROM outbox')[0]!.seq ?? undefined;
  }

  /** Drops outbox rows up to `seq`: D1 has them now. */
  mirrored(seq: number): void {
    this.storage.sql.exec('DELETE FROM outbox WHERE seq <= ?', seq);
  }

  /** Which of these source keys are recorded (the entry is in the log, whether or not D1 has it yet). */
  recordedSourceKeys(keys: string[]): Set<string> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 90) {
      const chunk = keys.slice(i, i + 90);
      const rows = this.rows<{ source_key: string }>(`SELECT source_key FROM source_keys WHERE source_key IN (${chunk.map(() => '?').join(',')})`, ...chunk);
      for (const r of rows) found.add(r.source_key);
    }
    return found;
  }

  /** Records source keys of entries already in the log (adopted from D1, or written before source_keys existed). */
  recordSourceKeys(keys: { sourceKey: string; seq: number }[]): void {
    this.storage.transactionSync(() => {
      for (const k of keys) this.storage.sql.exec('INSERT OR IGNORE INTO source_keys (source_key, seq) VALUES (?, ?)', k.sourceKey, k.seq);
    });
  }

  /** Source keys of the entries waiting in the outbox, with their seqs. */
  outboxSourceKeys(): { sourceKey: string; seq: number }[] {
    return this.rows<{ source_key: string; seq: number }>('SELECT source_key, seq FROM outbox WHERE source_key IS NOT NULL').map((r) => ({ sourceKey: r.source_key, seq: r.seq }));
  }

  sourceKeysComplete(): boolean {
    return this.rows('SELECT 1 FROM source_keys_complete WHERE id = 1').length > 0;
  }

  markSourceKeysComplete(at: string): void {
    this.storage.sql.exec('INSERT OR REPLACE INTO source_keys_complete (id, since) VALUES (1, ?)', at);
  }

  addCheckpoint(cp: StoredCheckpoint, head: AuditHead): void {
    this.storage.transactionSync(() => {
      this.storage.sql.exec('INSERT INTO checkpoints (size, root, ts, key_id, note) VALUES (?, ?, ?, ?, ?)', cp.size, blob(cp.root), cp.ts, cp.keyId, cp.note);
      this.writeHead(head);
    });
    this.latestCache = { checkpoint: cp };
  }

  latestCheckpoint(): StoredCheckpoint | undefined {
    this.latestCache ??= { checkpoint: this.checkpointRows('SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1')[0] };
    return this.latestCache.checkpoint;
  }

  /** Checkpoints with `afterSize` < size ≤ `maxSize`, oldest first. */
  checkpoints(afterSize: number, limit: number, maxSize = Number.MAX_SAFE_INTEGER): StoredCheckpoint[] {
    return this.checkpointRows('SELECT * FROM checkpoints WHERE size > ? AND size <= ? ORDER BY size LIMIT ?', afterSize, maxSize, limit);
  }

  checkpointAt(size: number): StoredCheckpoint | undefined {
    return this.checkpointRows('SELECT * FROM checkpoints WHERE size = ?', size)[0];
  }

  private checkpointRows(query: string, ...bindings: unknown[]): StoredCheckpoint[] {
    return this.rows<{ size: number; root: ArrayBuffer; ts: string; key_id: string; note: string }>(query, ...bindings).map((r) => ({
      size: r.size,
      root: new Uint8Array(r.root),
      ts: r.ts,
      keyId: r.key_id,
      note: r.note,
    }));
  }

  signingKeys(): StoredSigningKey[] {
    this.keysCache ??= this.rows<{ key_id: string; public_key: ArrayBuffer; added_at: string; added_at_size: number }>('SELECT * FROM signing_keys ORDER BY added_at_size, added_at').map((r) => ({
      keyId: r.key_id,
      publicKey: new Uint8Array(r.public_key),
      addedAt: r.added_at,
      addedAtSize: r.added_at_size,
    }));
    return this.keysCache;
  }

  /** The keys that signed checkpoints up to `maxSize`, in the order they were first used. */
  keysInUse(maxSize: number): StoredSigningKey[] {
    const order = this.rows<{ key_id: string }>('SELECT key_id, min(size) AS first FROM checkpoints WHERE size <= ? GROUP BY key_id ORDER BY first', maxSize).map((r) => r.key_id);
    const all = this.signingKeys();
    return order.map((id) => all.find((k) => k.keyId === id)).filter((k): k is StoredSigningKey => k !== undefined);
  }

  addSigningKey(key: StoredSigningKey): void {
    this.storage.sql.exec('INSERT INTO signing_keys (key_id, public_key, added_at, added_at_size) VALUES (?, ?, ?, ?)', key.keyId, blob(key.publicKey), key.addedAt, key.addedAtSize);
    this.keysCache = undefined;
  }
}
