/**
 * Builds audit exports in memory exactly as the audit object and GET /audit/export would write
 * them (same entry bytes, HMAC chain, tree and signed notes), with node:crypto so that large ones
 * are quick: for the verifier's tests and its benchmark. merkle/verify tests check it against
 * `sealEntry` so the two cannot drift apart.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { canonicalJson } from '../lib/crypto';
import { redact } from '../lib/redact';
import { GENESIS_HASH, type AuditEntry, type AuditInput } from './chain';
import { checkpointText, ed25519KeyId, formatSignatureLine, formatVerifierKey } from './checkpoint';
import { checkpointLine, headerLine, keyLine, manifestLine, manifestText } from './export-format';
import { CompactTree, hashLeaf, toHexHash } from './merkle';

export interface TestSigner {
  privateKey: nodeCrypto.KeyObject;
  publicKey: Uint8Array;
}

export function newSigner(): TestSigner {
  const pair = nodeCrypto.generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey, publicKey: Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url') };
}

/** A run-step entry like the engine writes, with some variety (unicode, nesting, numbers). */
export function sampleInput(i: number): AuditInput {
  return {
    ts: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    actor: i % 7 === 0 ? { type: 'api_key', id: `key_${(i % 13).toString(36)}` } : { type: 'system', id: 'run-engine' },
    action: i % 3 === 0 ? 'run.step.started' : 'run.step.succeeded',
    resource: { type: 'run', id: `run_0m3k${(i >> 4).toString(36).padStart(8, '0')}` },
    data: {
      seq: i % 40,
      message: i % 11 === 0 ? `Note ✓ «${i}» added` : `pagerduty.add_note succeeded after 1 attempt(s)`,
      run_status: 'running',
      step: `step-${i % 20}`,
      tool: 'pagerduty.add_note',
      status: 'succeeded',
      attempts: 1 + (i % 2),
      result: { id: `N${i}`, incident_id: 'PXYZ123', cost: (i % 100) / 8 },
    },
  };
}

export interface BuiltExport {
  text: string;
  tenant: string;
  origin: string;
  entries: AuditEntry[];
  /** The signed checkpoint notes, in order. */
  notes: string[];
  vkeys: string[];
  hmacKeys: Record<string, string>;
}

export interface BuildOptions {
  count: number;
  tenant?: string;
  /** A checkpoint every this many entries, and always one at the end (as an export does). */
  every?: number;
  /** Signing keys; with two, the second takes over halfway (a rotation). None: no checkpoints. */
  signers?: TestSigner[];
  /** HMAC keys by id; with two, the second takes over halfway. */
  hmac?: Record<string, string>;
  input?: (i: number) => AuditInput;
}

export function sealSync(key: { id: string; secret: string }, tenant: string, seq: number, prevHash: string, input: AuditInput): AuditEntry {
  const body: Omit<AuditEntry, 'hash'> = {
    seq,
    ts: input.ts ?? new Date().toISOString(),
    tenant,
    actor: input.actor,
    action: input.action,
    resource: input.resource,
    data: JSON.parse(JSON.stringify(redact(input.data ?? {}))) as Record<string, unknown>,
    prev_hash: prevHash,
    key_id: key.id,
  };
  const hash = nodeCrypto.createHmac('sha256', key.secret).update(prevHash + canonicalJson(body)).digest('hex');
  return { ...body, hash };
}

/**
 * The export's lines, one at a time (a large export never has to sit in memory); `notes`, `vkeys`
 * and `entries` are filled in as it goes (`entries` only when `keepEntries`).
 */
export function* exportLines(o: BuildOptions, out: Pick<BuiltExport, 'notes' | 'vkeys' | 'entries'> = { notes: [], vkeys: [], entries: [] }, keepEntries = true): Generator<string> {
  const tenant = o.tenant ?? 'ten_test';
  const origin = `agentrunbook/audit/${tenant}`;
  const hmac = Object.entries(o.hmac ?? { k1: 'test-audit-key-not-secret' });
  const signers = o.signers ?? [];
  const every = o.every ?? 100;
  const half = Math.ceil(o.count / 2);
  const signerAt = (size: number) => signers[signers.length > 1 && size > half ? 1 : 0]!;
  // Keys in order of first use, as the export lists them: who signs each checkpoint size.
  const used: TestSigner[] = [];
  if (signers.length) {
    for (let size = every; size <= o.count + every - 1; size += every) {
      const signer = signerAt(Math.min(size, o.count));
      if (!used.includes(signer)) used.push(signer);
    }
  }
  out.vkeys.push(...used.map((s) => formatVerifierKey(origin, s.publicKey)));
  const digest = nodeCrypto.createHash('sha256');
  const meta = (line: string) => {
    digest.update(line + '\n');
    return line;
  };
  yield meta(headerLine({ tenantId: tenant, origin, treeSize: o.count }));
  for (const v of out.vkeys) yield meta(keyLine(v));
  const tree = CompactTree.empty();
  let prev = GENESIS_HASH;
  let last: TestSigner | undefined;
  for (let i = 1; i <= o.count; i++) {
    const [id, secret] = hmac[hmac.length > 1 && i > half ? 1 : 0]!;
    const entry = sealSync({ id, secret }, tenant, i, prev, (o.input ?? sampleInput)(i));
    prev = entry.hash;
    if (keepEntries) out.entries.push(entry);
    const line = canonicalJson(entry);
    tree.add(hashLeaf(line));
    yield line;
    if (signers.length && (i % every === 0 || i === o.count)) {
      const signer = signerAt(i);
      last = signer;
      const text = checkpointText({ origin, size: i, root: tree.root() });
      const sig = nodeCrypto.sign(null, Buffer.from(text), signer.privateKey);
      const note = `${text}\n${formatSignatureLine(origin, ed25519KeyId(origin, signer.publicKey), sig)}`;
      out.notes.push(note);
      yield meta(checkpointLine({ tree_size: i, root_hash: toHexHash(tree.root()), note }));
    }
  }
  if (last) {
    const text = manifestText({ origin, tenant, treeSize: o.count, checkpoints: out.notes.length, exportedAt: '2026-02-01T00:00:00.000Z', digest: digest.digest('base64') });
    const sig = nodeCrypto.sign(null, Buffer.from(text), last.privateKey);
    yield manifestLine(`${text}\n${formatSignatureLine(origin, ed25519KeyId(origin, last.publicKey), sig)}`);
  }
}

export function buildExport(o: BuildOptions): BuiltExport {
  const tenant = o.tenant ?? 'ten_test';
  const out = { notes: [] as string[], vkeys: [] as string[], entries: [] as AuditEntry[] };
  const text = [...exportLines(o, out)].join('\n') + '\n';
  return { text, tenant, origin: `agentrunbook/audit/${tenant}`, ...out, hmacKeys: Object.fromEntries(Object.entries(o.hmac ?? { k1: 'test-audit-key-not-secret' })) };
}
