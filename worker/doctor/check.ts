/**
 * One finding of `GET /doctor` (and of `npm run doctor`): what was checked, how it stands, and —
 * when it is not ok — the exact command or setting that fixes it. Messages name settings, never
 * their values.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  id: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** Where the Worker answers: local (`wrangler dev`, secrets in `.dev.vars`) or deployed (`wrangler secret put`). */
export interface DoctorContext {
  local: boolean;
}

export const ok = (id: string, message: string): Check => ({ id, status: 'ok', message });
export const warn = (id: string, message: string, fix: string): Check => ({ id, status: 'warn', message, fix });
export const fail = (id: string, message: string, fix: string): Check => ({ id, status: 'fail', message, fix });

/** A loopback host: the Worker runs under `wrangler dev` (`npm start`). */
export function isLocalHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** How to set a secret where this Worker runs; `generate` is a shell command that prints a good value. */
export function setSecret(ctx: DoctorContext, name: string, generate: string): string {
  return ctx.local
    ? `set ${name} in .dev.vars to the output of \`${generate}\` (or delete the line: npm start generates one), then restart`
    : `${generate} | npx wrangler secret put ${name}`;
}
