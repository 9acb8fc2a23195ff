/**
 * What the audit log's single writer does, kept apart from the Durable Object's RPC surface:
 * seal entries into the HMAC chain, add them to the Merkle tree, commit both to the object's own
 * storage (with their source keys, which drop a retried append's entries), copy the entries to D1
 * from an outbox (a crash or a D1 outage loses nothing; the object does it behind the appends),
 * and sign a checkpoint every N entries or T seconds. Callers serialise calls (the object's lock),
 * except `copyPage`, which only reads committed outbox rows and deletes them once D1 has them.
 */
import { Buffer } from 'node:buffer';
import { and, between, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog } from '../db/schema';
import type { Env } from '../env';
import { errorFields, log } from '../observability/log';
import { adoptFromD1 } from './adopt';
import { AuditIntegrityError } from './integrity';
import { entryLeafHash, sealEntry, type AuditInput } from './chain';
import { auditOrigin, auditSigningKey, checkpointCadence } from './config';
import { auditKeys } from './keys';
import { CompactTree, equalHashes, type NewNode } from './merkle';
import { signCheckpoint, type SigningKey } from './signing-key';
import { backfillSourceKeys, dropRecorded } from './source-keys';
import type { AuditHead, AuditStore, OutboxRow, StoredSigningKey } from './store';

const SYSTEM = { type: 'system', id: 'audit-log' };
/** How soon a failed copy to D1 (or a checkpoint that failed) is retried. */
export const MIRROR_RETRY_MS = 10_000;
// D1 binds at most 100 parameters per statement: 13 columns × 7 rows.
const ROWS_PER_INSERT = 7;
/**
 * Most entries in one storage commit, and in one copy to D1: a batch of appends is then one
 * transaction and one db.batch of 100 inserts, well within the limits of both (D1: 100 bound
 * parameters a statement, 1000 queries an invocation).
 */
export const MAX_BATCH_ENTRIES = ROWS_PER_INSERT * 100;

export interface Loaded {
  head: AuditHead;
  tree: CompactTree;
}

export class AuditWriter {
  private state: Loaded | undefined;
  private signingKeyProblem: string | undefined;

  constructor(
    private readonly env: Env,
    private readonly store: AuditStore,
    private readonly db: DB,
    private readonly setAlarm: (at: number) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The log's state, built on first use; an object serves one tenant only. */
  async load(tenantId: string): Promise<Loaded> {
    if (!this.state) {
      const head = this.store.head() ?? (await adoptFromD1(this.env, this.db, this.store, tenantId, this.now()));
      if (head.tenant === tenantId && !this.store.sourceKeysComplete()) await backfillSourceKeys(this.db, this.store, tenantId, head.size, this.now());
      this.state = { head, tree: CompactTree.load(head.size, this.store.node) };
    }
    if (this.state.head.tenant !== tenantId) throw new AuditIntegrityError('this audit log belongs to another tenant');
    return this.state;
  }

  /** Forgets the in-memory state (after a failed commit), so the next call reads storage again. */
  reset(): void {
    this.state = undefined;
    this.store.forget();
  }

  /** Appends entries (skipping source keys already recorded), then signs a checkpoint if one is due; returns the seq of each new one. */
  async append(tenantId: string, inputs: AuditInput[]): Promise<number[]> {
    const [seqs] = await this.commit(tenantId, [inputs]);
    await this.checkpointIfDue();
    return seqs!;
  }

  /**
   * Commits the appends of a batch in one storage transaction (entries, tree nodes, outbox rows,
   * source keys, head); returns each append's new seqs, in its order. Throws having committed
   * nothing, or commits all. Nothing here waits on D1 once the log is loaded.
   */
  async commit(tenantId: string, batch: AuditInput[][]): Promise<number[][]> {
    const { head, tree } = await this.load(tenantId);
    const hmac = auditKeys(this.env);
    const signingKey = await this.signingKey();

    const fresh = dropRecorded(this.store, batch);
    const { inputs: rotations, keys: newKeys } = this.rotations(head, hmac.current.id, signingKey);
    const count = rotations.length + fresh.reduce((n, f) => n + f.length, 0);
    if (count === 0 && newKeys.length === 0) return batch.map(() => []);

    const next = tree.clone();
    const nodes: NewNode[] = [];
    const outbox: OutboxRow[] = [];
    let { size, hash } = head;
    const seal = async (input: AuditInput, sourceKey: string | null) => {
      const entry = await sealEntry(hmac.current, tenantId, ++size, hash, input);
      hash = entry.hash;
      nodes.push(...next.append(entryLeafHash(entry)));
      outbox.push({ entry, sourceKey });
      return entry.seq;
    };
    for (const input of rotations) await seal(input, null);
    const seqs: number[][] = [];
    for (const inputs of fresh) {
      const mine: number[] = [];
      for (const input of inputs) mine.push(await seal(input, input.source_key ?? null));
      seqs.push(mine);
    }
    const newHead: AuditHead = {
      ...head,
      size,
      hash,
      keyId: count ? hmac.current.id : head.keyId,
      pendingSince: head.pendingSince ?? (count ? this.now() : null),
    };
    this.store.commit(newHead, nodes, outbox, newKeys);
    this.state = { head: newHead, tree: next };
    return seqs;
  }

  /** Entries that record a key rotation (HMAC or signing), and signing keys seen for the first time. */
  private rotations(head: AuditHead, hmacKeyId: string, signingKey: SigningKey | undefined): { inputs: AuditInput[]; keys: StoredSigningKey[] } {
    const inputs: AuditInput[] = [];
    const keys: StoredSigningKey[] = [];
    if (head.size > 0 && head.keyId && head.keyId !== hmacKeyId) {
      inputs.push({ actor: SYSTEM, action: 'audit.key_rotated', resource: { type: 'audit_key', id: hmacKeyId }, data: { kind: 'hmac', key_id: hmacKeyId, previous_key_id: head.keyId } });
    }
    if (signingKey) {
      const known = this.store.signingKeys();
      if (!known.some((k) => k.keyId === signingKey.id)) {
        keys.push({ keyId: signingKey.id, publicKey: signingKey.publicKey, addedAt: new Date(this.now()).toISOString(), addedAtSize: head.size });
        const previous = known.at(-1);
        if (previous) {
          inputs.push({
            actor: SYSTEM,
            action: 'audit.key_rotated',
            resource: { type: 'audit_key', id: signingKey.id },
            data: { kind: 'signing', key_id: signingKey.id, previous_key_id: previous.keyId, public_key: Buffer.from(signingKey.publicKey).toString('base64') },
          });
        }
      }
    }
    return { inputs, keys };
  }

  /**
   * The configured signing key, or undefined (none configured, or unusable: that is logged once per
   * object, and the tree goes on without checkpoints rather than blocking every audited call).
   */
  async signingKey(): Promise<SigningKey | undefined> {
    let key: SigningKey | undefined;
    try {
      key = await auditSigningKey(this.env);
    } catch (err) {
      this.reportKeyProblem((err as Error).message);
      return undefined;
    }
    if (!key) return undefined;
    const recorded = this.store.signingKeys().find((k) => k.keyId === key.id);
    if (recorded && !equalHashes(recorded.publicKey, key.publicKey)) {
      this.reportKeyProblem(`signing key id "${key.id}" already names another key; give the new key a new id (AUDIT_SIGNING_KEY_ID or the JWK kid)`);
      return undefined;
    }
    return key;
  }

  private reportKeyProblem(problem: string): void {
    if (this.signingKeyProblem === problem) return;
    this.signingKeyProblem = problem;
    log.error('audit checkpoints are not being signed', { problem });
  }

  /**
   * Copies the oldest outbox entries (one batch's worth) to D1 and drops them from the outbox; true
   * when D1 has them (or none were waiting). A failure is logged and retried by the alarm: the
   * entries are safe here meanwhile.
   */
  async copyPage(): Promise<boolean> {
    const pending = this.store.outbox(MAX_BATCH_ENTRIES);
    if (pending.length === 0) return true;
    try {
      await this.insertRows(pending);
    } catch (err) {
      log.warn('audit entries not yet copied to D1; retrying', { tenant: pending[0]!.entry.tenant, entries: pending.length, error: errorFields(err) });
      await this.setAlarm(this.now() + MIRROR_RETRY_MS);
      return false;
    }
    this.store.mirrored(pending[pending.length - 1]!.entry.seq);
    return true;
  }

  private async insertRows(pending: OutboxRow[]): Promise<void> {
    const rows = pending.map(({ entry: e, sourceKey }) => ({
      tenantId: e.tenant,
      seq: e.seq,
      ts: e.ts,
      actorType: e.actor.type,
      actorId: e.actor.id,
      action: e.action,
      resourceType: e.resource.type,
      resourceId: e.resource.id,
      data: JSON.stringify(e.data),
      prevHash: e.prev_hash,
      hash: e.hash,
      keyId: e.key_id,
      sourceKey,
    }));
    const statements = [];
    // Rows already there from a copy interrupted after D1 committed are skipped, then checked below.
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) statements.push(this.db.insert(auditLog).values(rows.slice(i, i + ROWS_PER_INSERT)).onConflictDoNothing());
    const results = (await this.db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]])) as { meta?: { changes?: number } }[];
    const written = results.reduce((n, r) => n + (r.meta?.changes ?? 0), 0);
    if (written === rows.length) return;
    // The outbox is copied oldest first, so these seqs are one run: a range binds 3 parameters, not one a row.
    const there = await this.db
      .select({ seq: auditLog.seq, hash: auditLog.hash })
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, rows[0]!.tenantId), between(auditLog.seq, rows[0]!.seq, rows[rows.length - 1]!.seq)));
    const byseq = new Map(there.map((r) => [r.seq, r.hash]));
    const foreign = rows.filter((r) => byseq.get(r.seq) !== r.hash);
    if (foreign.length > 0) {
      log.error('audit_log in D1 holds rows this log never wrote', { tenant: rows[0]!.tenantId, seqs: foreign.map((r) => r.seq).slice(0, 20) });
      throw new AuditIntegrityError(`D1 already holds other rows at audit seq ${foreign.map((r) => r.seq).join(', ')}`);
    }
  }

  /** Signs a checkpoint when N entries or T seconds have passed since the last; otherwise arms the alarm for it. */
  async checkpointIfDue(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const key = await this.signingKey();
    if (!key) return;
    const last = this.store.latestCheckpoint();
    const pending = state.head.size - (last?.size ?? 0);
    if (pending <= 0) return;
    const { every, seconds } = checkpointCadence(this.env);
    const dueAt = (state.head.pendingSince ?? this.now()) + seconds * 1000;
    if (pending >= every || this.now() >= dueAt) await this.sign(key);
    else await this.setAlarm(dueAt);
  }

  /** A checkpoint of the whole log now, unless the latest already covers it (exports end with one). */
  async checkpointNow(tenantId: string): Promise<void> {
    await this.load(tenantId);
    const key = await this.signingKey();
    if (!key) return;
    if (!this.store.signingKeys().some((k) => k.keyId === key.id)) await this.append(tenantId, []); // records the key (and its rotation)
    if (this.state!.head.size > (this.store.latestCheckpoint()?.size ?? 0)) await this.sign(key);
  }

  private async sign(key: SigningKey): Promise<void> {
    const { head, tree } = this.state!;
    if (!this.store.signingKeys().some((k) => k.keyId === key.id)) {
      // A new key seen first by the alarm: record it (and its rotation entry) through an append.
      await this.append(head.tenant, []);
      return;
    }
    const origin = auditOrigin(this.env, head.tenant);
    const root = tree.root();
    const note = await signCheckpoint({ origin, size: tree.size, root }, key);
    const newHead = { ...head, pendingSince: null };
    this.store.addCheckpoint({ size: tree.size, root, ts: new Date(this.now()).toISOString(), keyId: key.id, note }, newHead);
    this.state = { head: newHead, tree };
  }
}

