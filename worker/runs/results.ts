/**
 * Large results are kept out of line (DESIGN §15): the step holds a preview and a digest, the
 * whole result stays where the tool call recorded it (the run's ledger row, keyed by the call's
 * idempotency key) and is served by `GET /runs/{id}/steps/{step}/result`. So neither the run's
 * state, nor each event, nor each audit entry carries a log dump.
 */
import { sha256Hex } from '../lib/crypto';

/** Results up to this size (JSON bytes) stay inline in the step. */
export const INLINE_RESULT_MAX_BYTES = 4 * 1024;
/** A tool's result may not exceed this (a storage value holds 2 MB; the ledger row carries the result). */
export const MAX_RESULT_BYTES = 1024 * 1024;
const PREVIEW_CHARS = 512;

export interface ResultRef {
  /** The ledger key of the call whose result this is. */
  key: string;
  bytes: number;
  sha256: string;
  /** The first characters of the result's JSON. */
  preview: string;
  truncated: true;
}

/** The size of a value as JSON, in UTF-8 bytes. */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : new TextEncoder().encode(json).length;
}

/** A reference for a result too large to keep inline, or undefined when it fits. */
export async function outOfLine(result: unknown, key: string): Promise<ResultRef | undefined> {
  const json = JSON.stringify(result);
  if (json === undefined) return undefined;
  const bytes = new TextEncoder().encode(json).length;
  if (bytes <= INLINE_RESULT_MAX_BYTES) return undefined;
  return { key, bytes, sha256: await sha256Hex(json), preview: json.slice(0, PREVIEW_CHARS), truncated: true };
}
