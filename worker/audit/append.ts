import type { Env } from '../env';
import { ApiError } from '../lib/errors';
import type { AuditInput } from './chain';
import { INTEGRITY_PREFIX } from './integrity';

/**
 * Errors keep only their message across the Durable Object RPC boundary: an integrity refusal of
 * the audit log (a log in D1 that does not verify) becomes a 503 that says why; anything else is
 * rethrown as it came.
 */
export async function viaAuditLog<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const at = err instanceof Error ? err.message.indexOf(INTEGRITY_PREFIX) : -1;
    if (at >= 0) throw new ApiError('unavailable', (err as Error).message.slice(at));
    throw err;
  }
}

/** Appends entries to a tenant's audit log through its single writer. */
export function auditAppend(env: Env, tenantId: string, entries: AuditInput[]): Promise<number[]> {
  return viaAuditLog(env.AUDIT.get(env.AUDIT.idFromName(tenantId)).append(tenantId, entries));
}
