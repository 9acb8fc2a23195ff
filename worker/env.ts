import type { AuditDO } from '../durable-objects/audit-do';
import type { RunDO } from '../durable-objects/run-do';

/** Bindings and variables of the Worker (wrangler.toml, `.dev.vars`, `wrangler secret put`). */
export interface Env {
  DB: D1Database;
  RUNS: DurableObjectNamespace<RunDO>;
  AUDIT: DurableObjectNamespace<AuditDO>;
  ASSETS?: Fetcher;
  /** JSON object of audit HMAC keys by key id, e.g. `{"k1":"…"}`. */
  AUDIT_HMAC_KEYS?: string;
  /** The key id new audit entries are chained with. */
  AUDIT_KEY_ID?: string;
  /** Signs session cookies. */
  SESSION_SECRET?: string;
  /** 32 bytes, base64: the AES-256-GCM key of stored credentials (worker/lib/secrets.ts). */
  SECRETS_KEY?: string;
  /** One-time token that allows `POST /api/v1/bootstrap` to create the first tenant. */
  BOOTSTRAP_TOKEN?: string;
  LLM_PROVIDER?: string;
}

export type Role = 'viewer' | 'operator' | 'sre' | 'admin';

/** Who is calling: resolved from an API key or a session cookie. */
export interface Principal {
  tenantId: string;
  tenantName: string;
  keyId: string;
  keyName: string;
  role: Role;
  platformOwner: boolean;
  actor: { type: 'api_key' | 'user'; id: string };
}

export interface AppVars {
  requestId: string;
  principal: Principal;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVars;
}
