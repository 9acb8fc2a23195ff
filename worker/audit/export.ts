/**
 * The audit export (`GET /audit/export`, JSONL) that `npm run audit:verify` checks without the
 * database. Every byte of it is checked by the verifier, so nothing unverifiable is written:
 *
 *   {"format":"agentrunbook.audit-export/1","origin":…,"tenant":…,"tree_size":N,"type":"header"}
 *   {"type":"key","vkey":"<origin>+<key id>+<base64 key>"}            one per signing key, in order of first use
 *   {"action":…,"actor":…,"data":…,"hash":…,"key_id":…,…,"ts":…}       entry 1, exactly its canonical JSON (the Merkle leaf's bytes)
 *   …
 *   {"note":"<signed checkpoint>","root_hash":"<hex>","tree_size":k,"type":"checkpoint"}   right after entry k
 *   …
 *   {"note":"<signed manifest>","type":"manifest"}                      last: signs the header, keys and checkpoints
 *
 * Lines are canonical JSON (sorted keys, no spaces). Entry lines have no `type`; every other line
 * has one. Whenever checkpoints are signed the export ends with a checkpoint of its last entry and
 * the manifest (export-format.ts), so every line of it is covered by a signature.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { and, asc, eq, gt, lte } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog } from '../db/schema';
import { canonicalJson } from '../lib/crypto';
import { checkpointLine, headerLine, keyLine, manifestLine, manifestText } from './export-format';
import type { CheckpointView, SigningKeyView } from './proofs';
import { toEntry } from './read';

export interface ExportSource {
  tenantId: string;
  origin: string;
  treeSize: number;
  /** The keys that signed the checkpoints, in order of first use. */
  keys: SigningKeyView[];
  /** Checkpoints with afterSize < size ≤ maxSize, oldest first, at most `limit`. */
  checkpoints(afterSize: number, maxSize: number, limit: number): Promise<CheckpointView[]>;
  /** Signs the manifest's text as a note; absent when checkpoints are not signed. */
  signManifest?(text: string): Promise<string>;
}

const PAGE = 500;

/** Streams the export page by page: entries 1…treeSize from D1, each checkpoint after its last entry. */
export function exportStream(db: DB, source: ExportSource): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const digest = nodeCrypto.createHash('sha256');
  let checkpointCount = 0;
  let after = 0;
  let started = false;
  const meta = (line: string) => {
    digest.update(line + '\n', 'utf8');
    return line;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const lines: string[] = [];
      if (!started) {
        started = true;
        lines.push(meta(headerLine(source)), ...source.keys.map((k) => meta(keyLine(k.vkey))));
      }
      if (after >= source.treeSize) {
        if (source.signManifest && source.treeSize > 0) {
          const text = manifestText({
            origin: source.origin,
            tenant: source.tenantId,
            treeSize: source.treeSize,
            checkpoints: checkpointCount,
            exportedAt: new Date().toISOString(),
            digest: Buffer.from(digest.digest()).toString('base64'),
          });
          lines.push(manifestLine(await source.signManifest(text)));
        }
        if (lines.length) controller.enqueue(encoder.encode(lines.join('\n') + '\n'));
        return controller.close();
      }
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.tenantId, source.tenantId), gt(auditLog.seq, after), lte(auditLog.seq, source.treeSize)))
        .orderBy(asc(auditLog.seq))
        .limit(PAGE);
      // A short page is the end (rows missing from D1 stay missing: the verifier names them).
      const upTo = rows.length < PAGE ? source.treeSize : rows[rows.length - 1]!.seq;
      const checkpoints = await allCheckpoints(source, after, upTo);
      checkpointCount += checkpoints.length;
      let c = 0;
      for (const row of rows) {
        while (c < checkpoints.length && checkpoints[c]!.tree_size < row.seq) lines.push(meta(checkpointLine(checkpoints[c++]!)));
        lines.push(canonicalJson(toEntry(row)));
      }
      while (c < checkpoints.length) lines.push(meta(checkpointLine(checkpoints[c++]!)));
      after = upTo;
      controller.enqueue(encoder.encode(lines.join('\n') + '\n'));
    },
  });
}

async function allCheckpoints(source: ExportSource, afterSize: number, maxSize: number): Promise<CheckpointView[]> {
  const out: CheckpointView[] = [];
  for (;;) {
    const page = await source.checkpoints(out.length ? out[out.length - 1]!.tree_size : afterSize, maxSize, PAGE);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}
