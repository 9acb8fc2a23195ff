import type { Env } from '../env';
import type { AuditInput } from './chain';

/** Appends entries to a tenant's audit log through its single writer. */
export function auditAppend(env: Env, tenantId: string, entries: AuditInput[]): Promise<number[]> {
  return env.AUDIT.get(env.AUDIT.idFromName(tenantId)).append(tenantId, entries);
}
