import { and, asc, eq, gt } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog } from '../db/schema';
import type { Env } from '../env';
import { log } from '../observability/log';
import { GENESIS_HASH, entryHash, entryLeafHash, type AuditEntry } from './chain';
import { auditKeys } from './keys';
import { CompactTree, type NewNode } from './merkle';
import { toEntry } from './read';
import type { AuditHead, AuditStore } from './store';
import { AuditIntegrityError } from './integrity';

const PAGE = 500;

/**
 * The first use of an audit object's storage: entries already in D1 (written before the tree
 * existed) are adopted into the tree, after their sequence, links and HMACs are checked (entries
 * under a key id no longer configured are taken on their links). A log that does not verify is
 * refused rather than signed over: appends then fail with the reason until it is repaired.
 */
export async function adoptFromD1(env: Env, db: DB, store: AuditStore, tenantId: string, now: number): Promise<AuditHead> {
  const keys = auditKeys(env).all;
  const tree = CompactTree.empty();
  let head: AuditHead = { tenant: tenantId, size: 0, hash: GENESIS_HASH, keyId: null, adopted: 0, pendingSince: null };
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, tenantId), gt(auditLog.seq, head.size)))
      .orderBy(asc(auditLog.seq))
      .limit(PAGE);
    if (rows.length === 0) break;
    const nodes: NewNode[] = [];
    for (const row of rows) {
      const e = toEntry(row);
      const problem =
        e.seq !== head.size + 1
          ? `entry ${head.size + 1} is missing`
          : e.prev_hash !== head.hash
            ? `entry ${e.seq} does not link to entry ${head.size}`
            : keys[e.key_id] && (await entryHash(keys[e.key_id]!, withoutHash(e))) !== e.hash
              ? `entry ${e.seq} does not match its HMAC`
              : undefined;
      if (problem) {
        log.error('audit log in D1 does not verify; refusing to adopt it into the Merkle tree', { tenant: tenantId, seq: head.size + 1, problem });
        throw new AuditIntegrityError(`the log in the database does not verify at entry ${head.size + 1} (${problem}), so it is not signed or extended; see GET /api/v1/audit/verify`);
      }
      nodes.push(...tree.append(entryLeafHash(e)));
      head = { ...head, size: e.seq, hash: e.hash, keyId: e.key_id, adopted: e.seq, pendingSince: head.pendingSince ?? now };
    }
    store.commit(head, nodes, []);
  }
  if (head.size === 0) store.commit(head, [], []);
  else log.info('audit log adopted into the Merkle tree', { tenant: tenantId, entries: head.size });
  return head;
}

function withoutHash(e: AuditEntry): Omit<AuditEntry, 'hash'> {
  const { hash: _hash, ...body } = e;
  return body;
}
