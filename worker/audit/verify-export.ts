/**
 * The offline verifier of an audit export (format: worker/audit/export.ts). Fed one line at a
 * time, as bytes, it checks everything the file contains without the database:
 *
 *  - every line is canonical JSON of the expected shape, entries numbered 1, 2, … without gaps;
 *  - the HMAC chain: each entry links to the previous one, and (with the HMAC keys) its HMAC holds;
 *  - the RFC 6962 tree, recomputed from the entries' exact bytes, has at each checkpoint the root
 *    the checkpoint signs; every checkpoint's Ed25519 signature verifies under the export's keys, or
 *    under the keys the auditor pinned; each key line is used, in order of first use;
 *  - checkpoints obtained elsewhere (`checkpoints`) are consistent with the entries, and none of
 *    them commits to more entries than the export holds.
 *
 * Consecutive checkpoints are consistent by construction here: both roots are recomputed from one
 * sequence of entries, which is exactly what a consistency proof would establish.
 *
 * What truncation it can detect: entries ending before the header's tree size, before any
 * checkpoint in the file or given with `checkpoints`, or after the last checkpoint (an unsigned
 * tail). What it cannot: a file cut back to an earlier checkpoint with its header edited to match
 * — that is a valid, shorter log, and only a later checkpoint kept elsewhere (`--checkpoint`) shows
 * there was more.
 *
 * Speed matters (an export can hold millions of entries): entry lines are checked on their bytes,
 * without JSON.parse (verify-bytes.ts); everything else goes the careful way. What it is asked and
 * answers (options, report, problem) is in verify-report.ts.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { canonicalJson } from '../lib/crypto';
import { NoteError, openCheckpoint, openNote, parseVerifierKey, type VerifierKey } from './checkpoint';
import { EXPORT_FORMAT, parseManifestText } from './export-format';
import { equalHashes, toHexHash, type Hash } from './merkle';
import { FastTree, Hmac, LeafHasher, readEntryBytes, type ParsedEntry } from './verify-bytes';
import type { Problem, ProblemKind, VerifyOptions, VerifyReport } from './verify-report';

const GENESIS = '0'.repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;
const ENTRY_KEYS = ['action', 'actor', 'data', 'hash', 'key_id', 'prev_hash', 'resource', 'seq', 'tenant', 'ts'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasKeys = (o: Record<string, unknown>, keys: string[]) => {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(o, k));
};
const isRef = (v: unknown) => isObject(v) && hasKeys(v, ['id', 'type']) && typeof v.id === 'string' && typeof v.type === 'string';

export class ExportVerifier {
  private lineNo = 0;
  private problem: Problem | undefined;
  private header: { tenant: string; origin: string; treeSize: number } | undefined;
  private readonly keyLines: VerifierKey[] = [];
  private readonly pinned: VerifierKey[] | undefined;
  private readonly firstUse: string[] = [];
  private readonly hmacs = new Map<string, Hmac>();
  private readonly hmacChecked: boolean;
  private count = 0;
  private prevHash = GENESIS;
  private readonly tree = new FastTree();
  private lastCheckpoint = 0;
  private checkpointsVerified = 0;
  /** First line of the entries after the last verified checkpoint. */
  private windowStart = 0;
  private external: { size: number; root: Hash; index: number }[] | undefined;
  private externalChecked = 0;
  private readonly warnings: string[] = [];
  private readonly leaves = new LeafHasher();
  /** SHA-256 over the non-entry lines, which the manifest signs. */
  private readonly metaDigest = nodeCrypto.createHash('sha256');
  private manifest: { exportedAt: string } | undefined;

  constructor(private readonly options: VerifyOptions = {}) {
    for (const [id, secret] of Object.entries(options.hmacKeys ?? {})) this.hmacs.set(id, new Hmac(secret));
    this.hmacChecked = this.hmacs.size > 0;
    this.pinned = options.publicKeys?.length ? options.publicKeys.map((k) => parseVerifierKey(k.trim())) : undefined;
  }

  get failed(): boolean {
    return this.problem !== undefined;
  }

  private fail(kind: ProblemKind, message: string, extra: Partial<Problem> = {}): void {
    this.problem ??= { kind, message, line: this.lineNo, ...extra };
  }

  /** Feeds the next line: bytes [start, end) of `buf`, without its newline. */
  line(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    if (this.problem) return;
    if (end <= start) return this.fail('format', `line ${this.lineNo} is empty`);
    if (this.header) {
      const fast = readEntryBytes(buf, start, end);
      if (fast) return this.entry(fast, buf, start, end, true);
    }
    this.parsedLine(buf.toString('utf8', start, end), buf, start, end);
  }

  /** Any line the fast path did not take: the header, keys, checkpoints, and unusual or damaged entries. */
  private parsedLine(text: string, buf: Buffer, start: number, end: number): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.fail('format', `line ${this.lineNo} is not JSON (damaged or cut short)`);
    }
    if (!isObject(value)) return this.fail('format', `line ${this.lineNo} is not a JSON object`);
    if (canonicalJson(value) !== text) return this.fail('format', `line ${this.lineNo} is not in canonical form (re-serialised or altered)`);
    if (this.manifest) return this.fail('format', `line ${this.lineNo} follows the manifest, which must be the last line`);
    if (value.type === 'manifest') return this.manifestLine(value);
    if (value.type !== undefined) this.metaDigest.update(buf.subarray(start, end)).update('\n');
    if (!this.header) return this.headerLine(value);
    if (value.type === 'key') return this.keyLine(value);
    if (value.type === 'checkpoint') return this.checkpointLine(value);
    if (value.type !== undefined) return this.fail('format', `line ${this.lineNo} has an unknown type`);
    const e = this.shapeOfEntry(value);
    if (e) this.entry(e, buf, start, end, false, value);
  }

  private headerLine(v: Record<string, unknown>): void {
    if (v.type !== 'header' || !hasKeys(v, ['format', 'origin', 'tenant', 'tree_size', 'type'])) return this.fail('format', 'the export does not start with its header line');
    if (v.format !== EXPORT_FORMAT) return this.fail('format', `unknown export format ${JSON.stringify(v.format)} (this verifier reads ${EXPORT_FORMAT})`);
    if (typeof v.tenant !== 'string' || typeof v.origin !== 'string' || !Number.isSafeInteger(v.tree_size) || (v.tree_size as number) < 0) {
      return this.fail('format', 'the header has an invalid tenant, origin or tree_size');
    }
    this.header = { tenant: v.tenant, origin: v.origin, treeSize: v.tree_size as number };
  }

  private keyLine(v: Record<string, unknown>): void {
    if (this.count > 0) return this.fail('format', `key line ${this.lineNo} comes after the entries began`);
    if (!hasKeys(v, ['type', 'vkey']) || typeof v.vkey !== 'string') return this.fail('format', `key line ${this.lineNo} is malformed`);
    let key: VerifierKey;
    try {
      key = parseVerifierKey(v.vkey);
    } catch (err) {
      return this.fail('key', `key line ${this.lineNo}: ${(err as Error).message}`);
    }
    if (key.name !== this.header!.origin) return this.fail('key', `key line ${this.lineNo} names "${key.name}", not this log's origin`);
    if (this.keyLines.some((k) => k.keyId === key.keyId)) return this.fail('key', `key line ${this.lineNo} repeats a key`);
    if (this.pinned && !this.pinned.some((p) => p.name === key.name && equalHashes(p.publicKey, key.publicKey))) {
      return this.fail('key', `the export's key ${v.vkey} is not one of the keys you trust (--public-key)`);
    }
    this.keyLines.push(key);
  }

  private trustedKeys(): VerifierKey[] {
    return this.pinned ?? this.keyLines;
  }

  /** Opens the checkpoints given from outside once the keys are known (at the first entry). */
  private openExternal(): void {
    this.external = [];
    for (const [index, note] of (this.options.checkpoints ?? []).entries()) {
      try {
        const c = openCheckpoint(note, this.trustedKeys());
        if (c.origin !== this.header!.origin) {
          this.fail('fork', `checkpoint #${index + 1} you supplied is for ${c.origin}, not ${this.header!.origin}`);
          return;
        }
        if (c.size > 0) this.external.push({ size: c.size, root: c.root, index });
      } catch (err) {
        this.fail('signature', `checkpoint #${index + 1} you supplied does not verify: ${(err as Error).message}`);
        return;
      }
    }
    this.external.sort((a, b) => a.size - b.size);
  }

  private shapeOfEntry(v: Record<string, unknown>): ParsedEntry | undefined {
    const ok =
      hasKeys(v, ENTRY_KEYS) &&
      typeof v.action === 'string' &&
      isRef(v.actor) &&
      isObject(v.data) &&
      typeof v.hash === 'string' &&
      HEX64.test(v.hash) &&
      typeof v.key_id === 'string' &&
      typeof v.prev_hash === 'string' &&
      isRef(v.resource) &&
      Number.isSafeInteger(v.seq) &&
      (v.seq as number) > 0 &&
      typeof v.tenant === 'string' &&
      typeof v.ts === 'string';
    if (!ok) {
      this.fail('format', `line ${this.lineNo} is not an audit entry (fields or types are wrong)`);
      return undefined;
    }
    return { seq: v.seq as number, tenant: v.tenant as string, keyId: v.key_id as string, prevHash: v.prev_hash as string, hash: v.hash as string };
  }

  private entry(e: ParsedEntry & { hp?: number }, buf: Buffer, start: number, end: number, fast: boolean, parsed?: Record<string, unknown>): void {
    if (this.external === undefined) this.openExternal();
    if (this.problem) return;
    const expected = this.count + 1;
    if (e.seq !== expected) {
      return e.seq > expected
        ? this.fail('sequence', `entry ${expected} is missing (line ${this.lineNo} holds entry ${e.seq})`, { seq: expected })
        : this.fail('sequence', `entry ${e.seq} appears again or out of order at line ${this.lineNo} (expected ${expected})`, { seq: e.seq });
    }
    if (e.tenant !== this.header!.tenant) return this.fail('tenant', `entry ${e.seq} belongs to tenant ${e.tenant}, not ${this.header!.tenant}`, { seq: e.seq });
    if (e.prevHash !== this.prevHash) return this.fail('link', `entry ${e.seq} does not link to entry ${e.seq - 1} (prev_hash differs: an entry was changed, removed or inserted)`, { seq: e.seq });
    if (this.hmacChecked) {
      const key = this.hmacs.get(e.keyId);
      if (!key) return this.fail('hmac', `entry ${e.seq} is chained with HMAC key "${e.keyId}", which was not given`, { seq: e.seq });
      let mac: string;
      if (fast) {
        mac = key.hex(e.prevHash, buf, [start, e.hp! + 1, e.hp! + 75, end]);
      } else {
        const { hash: _h, ...body } = parsed!;
        const message = Buffer.from(canonicalJson(body), 'utf8');
        mac = key.hex(e.prevHash, message, [0, message.length]);
      }
      if (mac !== e.hash) return this.fail('hmac', `entry ${e.seq} does not match its HMAC (altered)`, { seq: e.seq });
    }
    this.tree.add(this.leaves.hash(buf, start, end));
    this.prevHash = e.hash;
    this.count++;
    if (this.windowStart === 0) this.windowStart = this.lineNo;
    while (this.external!.length > this.externalChecked && this.external![this.externalChecked]!.size === this.count) {
      const ext = this.external![this.externalChecked++]!;
      if (!equalHashes(this.tree.root(), ext.root)) {
        return this.fail('fork', `entries 1..${ext.size} do not match checkpoint #${ext.index + 1} you supplied (the log was rewritten)`, { seq: ext.size });
      }
    }
  }

  private checkpointLine(v: Record<string, unknown>): void {
    if (!hasKeys(v, ['note', 'root_hash', 'tree_size', 'type']) || typeof v.note !== 'string' || typeof v.root_hash !== 'string' || !Number.isSafeInteger(v.tree_size)) {
      return this.fail('format', `checkpoint line ${this.lineNo} is malformed`);
    }
    const size = v.tree_size as number;
    if (size > this.count) return this.fail('truncated', `the checkpoint at line ${this.lineNo} signs ${size} entries but only ${this.count} come before it (entries ${this.count + 1}..${size} are missing)`, { seq: this.count + 1 });
    if (size < this.count || size <= this.lastCheckpoint) return this.fail('sequence', `the checkpoint for tree size ${size} is out of place at line ${this.lineNo} (after entry ${this.count})`);
    let opened;
    try {
      opened = openCheckpoint(v.note, this.trustedKeys());
    } catch (err) {
      const why = err instanceof NoteError ? err.message : String(err);
      return this.fail('signature', `the checkpoint for tree size ${size} (line ${this.lineNo}) is not validly signed: ${why}`);
    }
    if (opened.origin !== this.header!.origin) return this.fail('signature', `the checkpoint at line ${this.lineNo} is for ${opened.origin}, not ${this.header!.origin}`);
    if (opened.size !== size || toHexHash(opened.root) !== v.root_hash) return this.fail('format', `checkpoint line ${this.lineNo} does not match its own signed note`);
    if (!equalHashes(this.tree.root(), opened.root)) {
      return this.fail('tree', `entries ${this.lastCheckpoint + 1}..${size} do not match the signed checkpoint for tree size ${size} (an entry was altered)`, {
        seq: this.lastCheckpoint + 1,
        lines: [this.windowStart, this.lineNo - 1],
      });
    }
    for (const k of opened.signedBy) {
      const id = `${k.name}+${k.keyId}`;
      if (!this.firstUse.includes(id)) this.firstUse.push(id);
    }
    this.lastCheckpoint = size;
    this.checkpointsVerified++;
    this.windowStart = 0;
  }

  private manifestLine(v: Record<string, unknown>): void {
    if (!this.header) return this.fail('format', 'the export does not start with its header line');
    if (!hasKeys(v, ['note', 'type']) || typeof v.note !== 'string') return this.fail('format', `manifest line ${this.lineNo} is malformed`);
    let text: string;
    try {
      text = openNote(v.note, this.trustedKeys()).text;
    } catch (err) {
      return this.fail('signature', `the export's manifest (line ${this.lineNo}) is not validly signed: ${(err as Error).message}`);
    }
    const m = parseManifestText(text);
    if (!m) return this.fail('manifest', `the export's manifest (line ${this.lineNo}) is malformed`);
    const h = this.header;
    const mismatch =
      m.origin !== h.origin || m.tenant !== h.tenant
        ? 'names another log'
        : m.treeSize !== h.treeSize || m.treeSize !== this.count
          ? `signs ${m.treeSize} entries, the export holds ${this.count} (header: ${h.treeSize})`
          : m.checkpoints !== this.checkpointsVerified
            ? `signs ${m.checkpoints} checkpoints, the export holds ${this.checkpointsVerified} (one was removed or added)`
            : m.digest !== this.metaDigest.digest('base64')
              ? 'does not match the header, keys and checkpoints (one of them was changed, removed, added or moved)'
              : undefined;
    if (mismatch) return this.fail('manifest', `the export's signed manifest ${mismatch}`);
    this.manifest = { exportedAt: m.exportedAt };
  }

  /** A closer look at one line of a failed window: the first one that is not a canonical entry. */
  inspect(lineNo: number, text: string): Problem | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'format', line: lineNo, message: `line ${lineNo} is not JSON (altered)` };
    }
    if (!isObject(value) || value.type !== undefined) return undefined;
    if (canonicalJson(value) !== text) return { kind: 'format', line: lineNo, message: `line ${lineNo} is not in canonical form (altered or re-serialised)` };
    return undefined;
  }

  finish(endsWithNewline: boolean): VerifyReport {
    if (!this.problem) this.finalChecks(endsWithNewline);
    const signedBy = this.firstUse.map((id) => this.trustedKeys().find((k) => `${k.name}+${k.keyId}` === id)).filter((k): k is VerifierKey => !!k);
    return {
      ok: !this.problem,
      ...(this.problem ? { problem: this.problem } : {}),
      ...(this.header ? { tenant: this.header.tenant, origin: this.header.origin } : {}),
      entries: this.count,
      ...(this.count ? { root_hash: toHexHash(this.tree.root()) } : {}),
      hmac_checked: this.hmacChecked,
      keys: this.pinned ? 'pinned' : 'embedded',
      checkpoints_verified: this.checkpointsVerified,
      signed_tree_size: this.lastCheckpoint,
      signed_by: signedBy.map((k) => `${k.name}+${k.keyId}`),
      external_checkpoints: this.externalChecked,
      ...(this.manifest ? { exported_at: this.manifest.exportedAt } : {}),
      warnings: this.warnings,
    };
  }

  private finalChecks(endsWithNewline: boolean): void {
    if (!this.header) return this.fail('format', 'the export is empty');
    if (!endsWithNewline) return this.fail('truncated', 'the export does not end with a newline (cut short)');
    if (this.external === undefined) this.openExternal();
    if (this.problem) return;
    if (this.count < this.header.treeSize) return this.fail('truncated', `the export holds ${this.count} entries, its header says ${this.header.treeSize}`, { seq: this.count + 1 });
    if (this.count > this.header.treeSize) return this.fail('format', `the export holds ${this.count} entries, its header says ${this.header.treeSize}`);
    const beyond = this.external!.slice(this.externalChecked).find((c) => c.size > this.count);
    if (beyond) return this.fail('truncated', `checkpoint #${beyond.index + 1} you supplied commits to ${beyond.size} entries; the export holds only ${this.count}`, { seq: this.count + 1 });
    const unused = this.keyLines.find((k) => !this.firstUse.includes(`${k.name}+${k.keyId}`));
    if (unused) return this.fail('key', `the export lists key ${unused.name}+${unused.keyId}, which signed none of its checkpoints`);
    const order = this.keyLines.map((k) => `${k.name}+${k.keyId}`);
    if (!this.pinned && order.join() !== this.firstUse.join()) return this.fail('key', 'the key lines are not in the order the keys were first used');
    if (!this.manifest && (this.keyLines.length > 0 || this.checkpointsVerified > 0)) {
      const missing = "the export's signed manifest (its last line) is missing";
      if (!this.options.allowUnsignedTail) return this.fail('truncated', `${missing}: it was removed, or the export was made while signing was off (--allow-unsigned-tail accepts that)`);
      this.warnings.push(`${missing}; lines other than entries are not covered by a signature`);
    }
    if (this.pinned && this.checkpointsVerified === 0) return this.fail('signature', 'nothing in the export is signed by the keys you trust (--public-key)');
    if (this.lastCheckpoint < this.count) {
      const tail = `entries ${this.lastCheckpoint + 1}..${this.count} are not covered by a signed checkpoint`;
      if (this.checkpointsVerified > 0 && !this.options.allowUnsignedTail) return this.fail('uncovered', `${tail} (the final checkpoint was removed?)`, { seq: this.lastCheckpoint + 1 });
      this.warnings.push(this.hmacChecked ? `${tail}; only their HMACs vouch for them` : `${tail}, and no HMAC key was given: nothing vouches for them`);
    }
    if (!this.hmacChecked && this.checkpointsVerified === 0 && this.count > 0) {
      return this.fail('unverifiable', 'nothing could be verified: the export has no signed checkpoints and no HMAC key was given');
    }
    if (!this.hmacChecked) this.warnings.push('HMACs not checked (no HMAC key given): the tree and the signatures were');
    if (!this.pinned && this.checkpointsVerified > 0) {
      this.warnings.push('signatures were checked against the keys written in the export; pin them with --public-key to detect a forged, re-signed export');
    }
  }
}

/** Verifies a whole export held in memory (tests, small files). */
export function verifyExportText(text: string | Buffer, options: VerifyOptions = {}): VerifyReport {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const v = new ExportVerifier(options);
  let start = 0;
  const starts: number[] = [];
  while (start < buf.length && !v.failed) {
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    starts.push(start);
    v.line(buf, start, nl);
    start = nl + 1;
  }
  const report = v.finish(buf.length > 0 && buf[buf.length - 1] === 0x0a);
  return refine(report, v, (lineNo) => {
    const s = starts[lineNo - 1]!;
    let e = buf.indexOf(0x0a, s);
    if (e < 0) e = buf.length;
    return buf.toString('utf8', s, e);
  });
}

/** After a tree mismatch, names the first line of that window which is not a canonical entry, if any. */
export function refine(report: VerifyReport, v: ExportVerifier, lineText: (lineNo: number) => string): VerifyReport {
  const range = report.problem?.kind === 'tree' ? report.problem.lines : undefined;
  if (!range) return report;
  for (let n = range[0]; n <= range[1]; n++) {
    const p = v.inspect(n, lineText(n));
    if (p) return { ...report, problem: { ...p, message: `${p.message}; ${report.problem!.message}` } };
  }
  return report;
}
