import type { Env } from '../env';
import { ApiError } from '../lib/errors';

/**
 * Audit HMAC keys come from the `AUDIT_HMAC_KEYS` secret: a JSON object of secrets by key id.
 * New entries use `AUDIT_KEY_ID`; older ids stay so that rotated-out entries still verify.
 */
export function auditKeys(env: Env): { current: { id: string; secret: string }; all: Record<string, string> } {
  let all: Record<string, string>;
  try {
    all = JSON.parse(env.AUDIT_HMAC_KEYS ?? '{}') as Record<string, string>;
  } catch {
    throw new ApiError('unavailable', 'AUDIT_HMAC_KEYS is not valid JSON');
  }
  const id = env.AUDIT_KEY_ID ?? Object.keys(all)[0];
  const secret = id ? all[id] : undefined;
  if (!id || !secret) throw new ApiError('unavailable', 'Audit signing key is not configured (AUDIT_HMAC_KEYS / AUDIT_KEY_ID)');
  return { current: { id, secret }, all };
}
