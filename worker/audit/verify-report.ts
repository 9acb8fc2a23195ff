// What the offline verifier of an audit export (verify-export.ts) is asked and answers: its options,
// its report and the one problem a report names. Kept apart from the verifier so that the CLI
// (verify-file.ts), the tests and the bench read the contract without the machinery.

export type ProblemKind =
  | 'format'
  | 'sequence'
  | 'tenant'
  | 'link'
  | 'hmac'
  | 'tree'
  | 'signature'
  | 'key'
  | 'truncated'
  | 'fork'
  | 'uncovered'
  | 'manifest'
  | 'unverifiable';

export interface Problem {
  kind: ProblemKind;
  message: string;
  line?: number;
  seq?: number;
  /** For a tree mismatch: the lines of the entries the failed checkpoint covers beyond the previous one. */
  lines?: [number, number];
}

export interface VerifyOptions {
  /** HMAC keys by id (as AUDIT_HMAC_KEYS): without them the HMACs are not checked, only the links. */
  hmacKeys?: Record<string, string>;
  /** Verifier keys (`<name>+<id>+<base64>`) to trust instead of the keys written in the export. */
  publicKeys?: string[];
  /** Signed checkpoint notes of this log obtained elsewhere (earlier exports, GET /audit/checkpoints, a witness). */
  checkpoints?: string[];
  /**
   * Accept what only an export made while signing was off has: entries after the last checkpoint
   * and no manifest. Off by default, because removing them is also how an export is cut short.
   */
  allowUnsignedTail?: boolean;
}

export interface VerifyReport {
  ok: boolean;
  problem?: Problem;
  tenant?: string;
  origin?: string;
  entries: number;
  root_hash?: string;
  hmac_checked: boolean;
  keys: 'pinned' | 'embedded';
  checkpoints_verified: number;
  /** The largest tree size a verified signature covers. */
  signed_tree_size: number;
  signed_by: string[];
  external_checkpoints: number;
  /** When the export was made, as its signed manifest says. */
  exported_at?: string;
  warnings: string[];
}
