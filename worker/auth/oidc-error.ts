/**
 * A sign-in that cannot complete. `reason` is a short code (`bad_signature`, `no_role`, …) that
 * the browser sees in `/login?error=` and the audit log records; the message says what to do.
 */
export class OidcError extends Error {
  /** Who was refused, once the ID token has been verified (for the audit log). */
  identity?: { subject: string; sub: string; email?: string; groups: string[] };

  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}
