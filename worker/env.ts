import type { AuditDO } from '../durable-objects/audit-do';
import type { RunDO } from '../durable-objects/run-do';
import type { RateLimiterDO } from '../durable-objects/rate-limiter-do';
import type { ClusterDO } from '../durable-objects/cluster-do';

/** Bindings and variables of the Worker (wrangler.toml, `.dev.vars`, `wrangler secret put`). */
export interface Env {
  DB: D1Database;
  RUNS: DurableObjectNamespace<RunDO>;
  AUDIT: DurableObjectNamespace<AuditDO>;
  LIMITER: DurableObjectNamespace<RateLimiterDO>;
  /** One object per tenant and registered cluster: holds the k8s relay's WebSocket. */
  CLUSTERS: DurableObjectNamespace<ClusterDO>;
  /** Default per-subject rate limit (requests per minute, bucket size); tenants may set their own. */
  /** `true` lets integrations and OIDC issuers use loopback and private addresses (local development, tests). */
  ALLOW_PRIVATE_NETWORK?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  RATE_LIMIT_BURST?: string;
  /**
   * Platform ceilings on what tenants share (worker/policy/ceilings.ts): no tenant setting or
   * policy budget goes above them. Defaults: 600 runs per hour, 500 USD per day, 6000 requests
   * per minute with bursts of 1000.
   */
  PLATFORM_MAX_RUNS_PER_HOUR?: string;
  PLATFORM_MAX_COST_USD_PER_DAY?: string;
  PLATFORM_MAX_REQUESTS_PER_MINUTE?: string;
  PLATFORM_MAX_BURST?: string;
  ASSETS?: Fetcher;
  /** JSON object of audit HMAC keys by key id, e.g. `{"k1":"…"}`. */
  AUDIT_HMAC_KEYS?: string;
  /** The key id new audit entries are chained with. */
  AUDIT_KEY_ID?: string;
  /** Signs session cookies. */
  SESSION_SECRET?: string;
  /** Bearer token of `GET /api/v1/metrics` (Prometheus scrape). */
  METRICS_TOKEN?: string;
  /** `info` (default) or `warn`: request log lines below 5xx are dropped at `warn`. */
  LOG_LEVEL?: string;
  /** Ed25519 key (JWK or PKCS#8) that signs audit checkpoints; see worker/audit/config.ts for the rest. */
  AUDIT_SIGNING_KEY?: string;
  /** 32 bytes, base64: the AES-256-GCM key of stored credentials (worker/lib/secrets.ts). */
  SECRETS_KEY?: string;
  /** The SECRETS_KEY before a rotation: opens what it sealed until POST /secrets/reseal has run. */
  SECRETS_KEY_PREVIOUS?: string;
  /** One-time token that allows `POST /api/v1/bootstrap` to create the first tenant. */
  BOOTSTRAP_TOKEN?: string;
  /** Agents (worker/agents/config.ts): `stub` (default), `openai` (also any OpenAI-compatible base URL) or `anthropic`. */
  LLM_PROVIDER?: string;
  LLM_MODEL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  ANTHROPIC_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  LLM_TIMEOUT_MS?: string;
  LLM_MAX_RETRIES?: string;
  /** JSON price overrides per model (USD per million tokens). */
  LLM_PRICES?: string;
  ANTHROPIC_OUTPUT_MODE?: string;
}

export type Role = 'viewer' | 'operator' | 'sre' | 'admin';

/** Who is calling: resolved from an API key or a session cookie. */
export interface Principal {
  tenantId: string;
  tenantName: string;
  /** "Who did this" for `created_by` columns: the API key's id, or a signed-in person's session id. */
  keyId: string;
  /** The key's name, or the person's display name (name, else email, else subject). */
  keyName: string;
  role: Role;
  platformOwner: boolean;
  /** The audit actor: the API key, or the person as `iss|sub` (the same across their sessions). */
  actor: { type: 'api_key' | 'user' | 'webhook'; id: string };
  /**
   * The person behind the credential (DESIGN §14, worker/auth/person.ts): a key's owner, or the
   * signed-in person. Duties compare it. Absent for webhooks: they act as themselves (`actor.id`).
   */
  person?: string;
  /** Present when the caller came with the session cookie rather than `Authorization`. */
  session?: { id: string; kind: 'api_key' | 'oidc'; expiresAt: string };
  /** Present for people signed in with OIDC. */
  user?: { issuer: string; subject: string; email?: string; name?: string; groups: string[] };
}

export interface AppVars {
  requestId: string;
  principal: Principal;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVars;
}
