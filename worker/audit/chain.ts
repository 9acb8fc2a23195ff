import { canonicalJson, hmacHex } from '../lib/crypto';
import { redact } from '../lib/redact';
import { hashLeaf, type Hash } from './merkle';

export const GENESIS_HASH = '0'.repeat(64);

/** What a writer hands to the audit log; the log adds seq, tenant, chain and key. */
export interface AuditInput {
  ts?: string;
  actor: { type: string; id: string };
  action: string;
  resource: { type: string; id: string };
  data?: Record<string, unknown>;
  /** Identifies the source of the entry so that a retried append is recorded once. */
  source_key?: string;
}

export interface AuditEntry {
  seq: number;
  ts: string;
  tenant: string;
  actor: { type: string; id: string };
  action: string;
  resource: { type: string; id: string };
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  key_id: string;
}

/** `HMAC-SHA256(key, prev_hash ‖ canonical_json(entry without hash))` (DESIGN §7). */
export function entryHash(key: string, entry: Omit<AuditEntry, 'hash'>): Promise<string> {
  return hmacHex(key, entry.prev_hash + canonicalJson(entry));
}

export async function sealEntry(
  key: { id: string; secret: string },
  tenant: string,
  seq: number,
  prevHash: string,
  input: AuditInput,
): Promise<AuditEntry> {
  const body: Omit<AuditEntry, 'hash'> = {
    seq,
    ts: input.ts ?? new Date().toISOString(),
    tenant,
    actor: input.actor,
    action: input.action,
    resource: input.resource,
    // Through JSON, so the entry hashed is exactly the entry stored (D1 keeps `data` as JSON text).
    data: JSON.parse(JSON.stringify(redact(input.data ?? {}))) as Record<string, unknown>,
    prev_hash: prevHash,
    key_id: key.id,
  };
  return { ...body, hash: await entryHash(key.secret, body) };
}

/**
 * The entry's leaf in the tenant's Merkle tree: SHA-256(0x00 ‖ canonical JSON of the whole entry,
 * `hash` included). The export writes each entry as exactly these bytes, one per line.
 */
export function entryLeafHash(entry: AuditEntry): Hash {
  return hashLeaf(canonicalJson(entry));
}

export interface VerifyState {
  ok: boolean;
  entries: number;
  first_bad_seq?: number;
  reason?: string;
  last_seq: number;
  last_hash: string;
}

export function startVerify(): VerifyState {
  return { ok: true, entries: 0, last_seq: 0, last_hash: GENESIS_HASH };
}

/**
 * Checks the next entries of a chain, continuing from `state` (so a long log is verified page by
 * page). Stops at the first entry whose sequence, link or HMAC is wrong.
 */
export async function verifyEntries(state: VerifyState, entries: AuditEntry[], keys: Record<string, string>): Promise<VerifyState> {
  if (!state.ok) return state;
  for (const e of entries) {
    const fail = (reason: string): VerifyState => ({ ...state, ok: false, first_bad_seq: e.seq, reason });
    if (e.seq !== state.last_seq + 1) return { ...state, ok: false, first_bad_seq: state.last_seq + 1, reason: `entry ${state.last_seq + 1} is missing (found ${e.seq})` };
    if (e.prev_hash !== state.last_hash) return fail('prev_hash does not match the previous entry');
    const secret = keys[e.key_id];
    if (!secret) return fail(`unknown key_id ${e.key_id}`);
    const { hash, ...body } = e;
    if ((await entryHash(secret, body)) !== hash) return fail('hash does not match the entry (altered)');
    state = { ...state, entries: state.entries + 1, last_seq: e.seq, last_hash: hash };
  }
  return state;
}
