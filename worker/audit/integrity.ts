/** Starts the message of every integrity refusal, so callers across the RPC boundary can tell it (append.ts). */
export const INTEGRITY_PREFIX = 'Audit log integrity: ';

export class AuditIntegrityError extends Error {
  override name = 'AuditIntegrityError';
  constructor(message: string) {
    super(INTEGRITY_PREFIX + message);
  }
}
