/**
 * The lines of an audit export other than entries (worker/audit/export.ts describes the whole
 * format). Kept free of database code, so the offline verifier bundles only what it checks with.
 */
import { canonicalJson } from '../lib/crypto';

export const EXPORT_FORMAT = 'agentrunbook.audit-export/1';
/** First line of a manifest's note. It has spaces, so no checkpoint verifier can take it for an origin. */
export const MANIFEST_TITLE = 'agentrunbook audit export manifest v1';

export function headerLine(s: { tenantId: string; origin: string; treeSize: number }): string {
  return canonicalJson({ type: 'header', format: EXPORT_FORMAT, tenant: s.tenantId, origin: s.origin, tree_size: s.treeSize });
}

export function keyLine(vkey: string): string {
  return canonicalJson({ type: 'key', vkey });
}

export function checkpointLine(c: { tree_size: number; root_hash: string; note: string }): string {
  return canonicalJson({ type: 'checkpoint', tree_size: c.tree_size, root_hash: c.root_hash, note: c.note });
}

export function manifestLine(note: string): string {
  return canonicalJson({ type: 'manifest', note });
}

/**
 * What the manifest signs: the export as a whole. Entries are covered by the checkpoints' roots;
 * `digest` covers every other line before the manifest (header, keys, checkpoints, with their
 * newlines, in order), so no checkpoint can be dropped and nothing else in the file is unsigned.
 */
export interface Manifest {
  origin: string;
  tenant: string;
  treeSize: number;
  checkpoints: number;
  exportedAt: string;
  /** base64 SHA-256 of the non-entry lines before the manifest. */
  digest: string;
}

export function manifestText(m: Manifest): string {
  return [MANIFEST_TITLE, m.origin, m.tenant, String(m.treeSize), String(m.checkpoints), m.exportedAt, m.digest].join('\n') + '\n';
}

export function parseManifestText(text: string): Manifest | undefined {
  const l = text.split('\n');
  if (l.length !== 8 || l[0] !== MANIFEST_TITLE || l[7] !== '') return undefined;
  const [, origin, tenant, size, checkpoints, exportedAt, digest] = l as string[];
  if (!/^(0|[1-9][0-9]*)$/.test(size!) || !/^(0|[1-9][0-9]*)$/.test(checkpoints!) || Number.isNaN(Date.parse(exportedAt!)) || !/^[A-Za-z0-9+/]{43}=$/.test(digest!)) return undefined;
  return { origin: origin!, tenant: tenant!, treeSize: Number(size), checkpoints: Number(checkpoints), exportedAt: exportedAt!, digest: digest! };
}
