import type { Env } from '../env';
import { isValidKeyName } from './checkpoint';
import { loadSigningKey, type SigningKey } from './signing-key';

/** Settings of the verifiable audit log (README "Configuration"); all optional. */
export interface AuditProofEnv {
  /** Ed25519 private key that signs checkpoints: a private JWK, or PKCS#8 (base64 DER or PEM). */
  AUDIT_SIGNING_KEY?: string;
  /** Id recorded with checkpoints signed by that key (default: the JWK's kid, else derived from the key). */
  AUDIT_SIGNING_KEY_ID?: string;
  /** Prefix of each tenant log's origin line, e.g. `runbooks.example.com` (default `agentrunbook`). */
  AUDIT_ORIGIN?: string;
  /** A checkpoint after this many new entries (default 1000)… */
  AUDIT_CHECKPOINT_EVERY?: string;
  /** …or this many seconds after the first entry it would cover (default 60). */
  AUDIT_CHECKPOINT_SECONDS?: string;
}

const proofEnv = (env: Env) => env as Env & AuditProofEnv;

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The origin line of a tenant's checkpoints, which is also the name its signatures are made under. */
export function auditOrigin(env: Env, tenantId: string): string {
  const prefix = (proofEnv(env).AUDIT_ORIGIN ?? 'agentrunbook').replace(/\/+$/, '');
  const origin = `${prefix}/audit/${tenantId}`;
  if (!isValidKeyName(origin)) throw new Error('AUDIT_ORIGIN must not contain spaces or "+"');
  return origin;
}

export function checkpointCadence(env: Env): { every: number; seconds: number } {
  const e = proofEnv(env);
  return { every: positive(e.AUDIT_CHECKPOINT_EVERY, 1000), seconds: positive(e.AUDIT_CHECKPOINT_SECONDS, 60) };
}

/** The checkpoint signing key, or undefined when none is configured (the tree is kept, nothing is signed). */
export async function auditSigningKey(env: Env): Promise<SigningKey | undefined> {
  const e = proofEnv(env);
  return e.AUDIT_SIGNING_KEY ? loadSigningKey(e.AUDIT_SIGNING_KEY, e.AUDIT_SIGNING_KEY_ID || undefined) : undefined;
}
