import { DurableObject } from 'cloudflare:workers';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { GENESIS_HASH, sealEntry, type AuditEntry, type AuditInput } from '../worker/audit/chain';
import { auditKeys } from '../worker/audit/keys';
import { makeDb } from '../worker/db/client';
import { auditLog } from '../worker/db/schema';
import type { Env } from '../worker/env';

/**
 * The single writer of one tenant's audit log: it assigns `seq` and chains each entry to the
 * previous one. Appends are serialised in memory; the chain head is re-read from D1 whenever
 * the object starts, so D1 stays the only record.
 */
export class AuditDO extends DurableObject<Env> {
  private head: { seq: number; hash: string } | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  async append(tenantId: string, inputs: AuditInput[]): Promise<number[]> {
    const run = () => this.appendNow(tenantId, inputs);
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async appendNow(tenantId: string, inputs: AuditInput[]): Promise<number[]> {
    if (inputs.length === 0) return [];
    const db = makeDb(this.env.DB);
    const keys = auditKeys(this.env);
    if (!this.head) {
      const [last] = await db
        .select({ seq: auditLog.seq, hash: auditLog.hash })
        .from(auditLog)
        .where(eq(auditLog.tenantId, tenantId))
        .orderBy(desc(auditLog.seq))
        .limit(1);
      this.head = last ?? { seq: 0, hash: GENESIS_HASH };
    }
    // A retried append (same source keys) is recorded once.
    const sourceKeys = inputs.map((i) => i.source_key).filter((k): k is string => !!k);
    const seen = new Set<string>();
    for (let i = 0; i < sourceKeys.length; i += 90) {
      const rows = await db
        .select({ key: auditLog.sourceKey })
        .from(auditLog)
        .where(and(eq(auditLog.tenantId, tenantId), inArray(auditLog.sourceKey, sourceKeys.slice(i, i + 90))));
      for (const r of rows) if (r.key) seen.add(r.key);
    }
    const fresh = inputs.filter((i) => !i.source_key || !seen.has(i.source_key));
    if (fresh.length === 0) return [];
    let { seq, hash } = this.head;
    const sealed: (AuditEntry & { source_key?: string })[] = [];
    for (const input of fresh) {
      const entry = await sealEntry(keys.current, tenantId, ++seq, hash, input);
      hash = entry.hash;
      sealed.push({ ...entry, source_key: input.source_key });
    }
    const rows = sealed.map((e) => ({
      tenantId,
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
      sourceKey: e.source_key ?? null,
    }));
    try {
      // D1 limits bound parameters per statement; 13 columns × 7 rows stays under 100.
      const statements = [];
      for (let i = 0; i < rows.length; i += 7) statements.push(db.insert(auditLog).values(rows.slice(i, i + 7)));
      await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
    } catch (err) {
      this.head = undefined; // re-read the head next time rather than trust memory
      throw err;
    }
    this.head = { seq, hash };
    return sealed.map((e) => e.seq);
  }
}
