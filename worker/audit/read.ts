import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog } from '../db/schema';
import type { AuditEntry } from './chain';

type Row = typeof auditLog.$inferSelect;

export function toEntry(r: Row): AuditEntry {
  return {
    seq: r.seq,
    ts: r.ts,
    tenant: r.tenantId,
    actor: { type: r.actorType, id: r.actorId },
    action: r.action,
    resource: { type: r.resourceType, id: r.resourceId },
    data: JSON.parse(r.data) as Record<string, unknown>,
    prev_hash: r.prevHash,
    hash: r.hash,
    key_id: r.keyId,
  };
}

/** One page of a tenant's entries in chain order, after `afterSeq`. */
export async function auditPage(db: DB, tenantId: string, afterSeq: number, limit: number, filters: SQL[] = []): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.tenantId, tenantId), gt(auditLog.seq, afterSeq), ...filters))
    .orderBy(asc(auditLog.seq))
    .limit(limit);
  return rows.map(toEntry);
}
