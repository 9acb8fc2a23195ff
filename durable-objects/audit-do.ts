import { DurableObject } from 'cloudflare:workers';
import type { AuditInput } from '../worker/audit/chain';
import { auditOrigin } from '../worker/audit/config';
import { GroupCommit } from '../worker/audit/group-commit';
import { toHexHash } from '../worker/audit/merkle';
import {
  checkpointView,
  consistency,
  inclusion,
  signingKeyView,
  type Answer,
  type CheckpointView,
  type ConsistencyView,
  type InclusionView,
  type SigningKeyView,
} from '../worker/audit/proofs';
import { AuditStore } from '../worker/audit/store';
import { AuditWriter, MAX_BATCH_ENTRIES, MIRROR_RETRY_MS } from '../worker/audit/writer';
import { makeDb } from '../worker/db/client';
import type { Env } from '../worker/env';
import { errorFields, log, registerSecrets } from '../worker/observability/log';

export interface TreeHeadView {
  tenant: string;
  origin: string;
  tree_size: number;
  root_hash: string;
  /** Entries adopted from D1 when the tree was first built (written before it existed). */
  adopted: number;
  latest_checkpoint?: CheckpointView;
  /** Whether checkpoints are being signed (AUDIT_SIGNING_KEY is set and usable). */
  signing: boolean;
}

export interface CheckpointPage {
  origin: string;
  items: CheckpointView[];
  keys: SigningKeyView[];
}

/**
 * The single writer of one tenant's audit log. It assigns `seq`, chains each entry (HMAC), adds it
 * to the tenant's RFC 6962 Merkle tree and signs checkpoints; its own SQLite storage holds the chain
 * head, the tree and the checkpoints, and D1 gets a copy of every entry (worker/audit/writer.ts).
 * All calls go through one lock, so the log is only ever changed by one call at a time. Appends
 * that arrive while one is being written are committed together next (group commit), and the copy
 * to D1 follows behind them: an append is answered once its entries are in this object's storage.
 */
export class AuditDO extends DurableObject<Env> {
  private readonly store: AuditStore;
  private readonly writer: AuditWriter;
  // Before a batch is taken, one turn of the event loop: the appends already delivered to this
  // object join it (without it, each would commit alone, as its own storage flush).
  private readonly appends = new GroupCommit<AuditInput, number[]>((tenantId, batch) => this.commitBatch(tenantId, batch), MAX_BATCH_ENTRIES, () => new Promise((r) => setTimeout(r, 0)));
  private lock: Promise<unknown> = Promise.resolve();
  /** The alarm as last set or read (undefined: not known), so an append does not read it each time. */
  private alarmAt: number | null | undefined;
  /** The copy to D1 under way (one page at a time, so two copies never race over the same rows). */
  private copying: Promise<boolean> | undefined;
  private copyingBehind = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    registerSecrets(env); // this object's logs are scrubbed of the deployment's secrets too
    this.store = new AuditStore(ctx.storage);
    this.writer = new AuditWriter(env, this.store, makeDb(env.DB), (at) => this.armAlarm(at));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      try {
        return await fn();
      } catch (err) {
        this.writer.reset(); // read storage again next time rather than trust memory
        throw err;
      }
    };
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Arms the alarm for `at` unless an earlier one is already set. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || at < this.alarmAt) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    }
  }

  /** Appends entries (a source key already recorded drops its entry); resolves to the new entries' seqs once they are committed. */
  async append(tenantId: string, inputs: AuditInput[]): Promise<number[]> {
    return this.appends.submit(tenantId, inputs);
  }

  private commitBatch(tenantId: string, batch: AuditInput[][]): Promise<number[][]> {
    return this.exclusive(async () => {
      const seqs = await this.writer.commit(tenantId, batch);
      // The copy is not awaited by the callers: if this object stops before it is done, the alarm
      // (set only when none is due sooner) finishes it.
      await this.armAlarm(Date.now() + MIRROR_RETRY_MS);
      this.copyBehind();
      try {
        await this.writer.checkpointIfDue();
      } catch (err) {
        // The entries are committed: failing their callers would only make them append again.
        log.error('audit checkpoint not signed; retrying', { tenant: tenantId, error: errorFields(err) });
        await this.armAlarm(Date.now() + MIRROR_RETRY_MS);
      }
      return seqs;
    });
  }

  /** Copies the oldest outbox page to D1, joining the copy under way if there is one; false when it failed. */
  private copyPage(): Promise<boolean> {
    this.copying ??= this.writer.copyPage().finally(() => (this.copying = undefined));
    return this.copying;
  }

  /** Copies the outbox to D1 behind the appends (not awaited by them), until it is empty or a copy fails. */
  private copyBehind(): void {
    if (this.copyingBehind) return;
    this.copyingBehind = true;
    const loop = async () => {
      try {
        // The flag drops in the same turn as the outbox is seen empty, so rows committed after are never left behind.
        while (this.store.outboxFirstSeq() !== undefined && (await this.copyPage()));
      } finally {
        this.copyingBehind = false;
      }
    };
    this.ctx.waitUntil(loop());
  }

  /** Copies the outbox up to entry `upTo` to D1; stops early when a copy fails (the alarm retries it). */
  private async copyUpTo(upTo: number): Promise<void> {
    for (;;) {
      const first = this.store.outboxFirstSeq();
      if (first === undefined || first > upTo || !(await this.copyPage())) return;
    }
  }

  /**
   * Resolves once the appends received so far are committed and copied to D1, to the log's size
   * then: what a reader of D1 calls first, to see its own writes. If D1 is failing it resolves
   * anyway (the alarm retries the copy) and the reader sees D1 as it is.
   */
  async settle(): Promise<number> {
    await this.appends.idle();
    const size = this.store.head()?.size ?? 0;
    await this.copyUpTo(size);
    return size;
  }

  /** Signs the checkpoint that became due by time, and retries the copy to D1 (of its key's entries too). */
  override async alarm(): Promise<void> {
    this.alarmAt = undefined; // this one has fired
    const head = this.store.head();
    if (!head) return;
    await this.exclusive(async () => {
      await this.writer.load(head.tenant);
      await this.writer.checkpointIfDue();
    });
    await this.copyUpTo(Number.MAX_SAFE_INTEGER);
  }

  async head(tenantId: string): Promise<TreeHeadView> {
    return this.exclusive(async () => {
      const { head, tree } = await this.writer.load(tenantId);
      const latest = this.store.latestCheckpoint();
      return {
        tenant: tenantId,
        origin: auditOrigin(this.env, tenantId),
        tree_size: tree.size,
        root_hash: toHexHash(tree.root()),
        adopted: head.adopted,
        ...(latest ? { latest_checkpoint: checkpointView(latest) } : {}),
        signing: (await this.writer.signingKey()) !== undefined,
      };
    });
  }

  /** Makes sure a checkpoint covers every entry (when signing is on), then returns the head. */
  async checkpointNow(tenantId: string): Promise<TreeHeadView> {
    await this.exclusive(() => this.writer.checkpointNow(tenantId));
    return this.head(tenantId);
  }

  /**
   * What an export needs first: a checkpoint covering every entry (when signing is on), the tree
   * size the export stops at, and the keys that signed its checkpoints in order of first use.
   */
  async exportStart(tenantId: string): Promise<{ head: TreeHeadView; keys: SigningKeyView[] }> {
    await this.appends.idle();
    const head = await this.checkpointNow(tenantId);
    await this.copyUpTo(head.tree_size); // the export reads the entries from D1
    const keys = this.store.keysInUse(head.tree_size).map((k) => signingKeyView(head.origin, k));
    return { head, keys };
  }

  async checkpoints(tenantId: string, afterSize: number, limit: number, maxSize?: number): Promise<CheckpointPage> {
    return this.exclusive(async () => {
      await this.writer.load(tenantId);
      const origin = auditOrigin(this.env, tenantId);
      return {
        origin,
        items: this.store.checkpoints(afterSize, limit, maxSize).map(checkpointView),
        keys: this.store.signingKeys().map((k) => signingKeyView(origin, k)),
      };
    });
  }

  async inclusionProof(tenantId: string, seq: number, treeSize?: number): Promise<Answer<InclusionView>> {
    return this.exclusive(async () => inclusion(this.store, await this.writer.load(tenantId), seq, treeSize));
  }

  async consistencyProof(tenantId: string, from: number, to?: number): Promise<Answer<ConsistencyView>> {
    return this.exclusive(async () => consistency(this.store, await this.writer.load(tenantId), from, to));
  }

  /** Leaf hashes (hex) of entries `fromSeq`…, for comparing D1's rows with the tree. */
  async leafHashes(tenantId: string, fromSeq: number, limit: number): Promise<string[]> {
    return this.exclusive(async () => {
      const { tree } = await this.writer.load(tenantId);
      if (fromSeq > tree.size) return [];
      return this.store.leafHashes(fromSeq, limit).map(toHexHash);
    });
  }
}
