import { z } from 'zod';

/** The vendors with live implementations; each is the namespace of its tools in the catalog. */
export type Vendor = 'github' | 'jira' | 'pagerduty';

/** One tool call as the invoker hands it to a vendor's live implementation. */
export interface LiveCall {
  /** The catalog id, e.g. `github.create_issue`. */
  tool: string;
  /** The arguments as the runbook gave them; the executor parses them with the tool's own schema. */
  args: Record<string, unknown>;
  /**
   * `runId:stepId:attempt`. A create carries it to the vendor (a hidden marker, a label, a dedup
   * key), so a repeated delivery of the same call finds what the first one made.
   */
  idempotencyKey: string;
  /** Aborts requests in flight (the step's deadline). */
  signal?: AbortSignal;
}

/**
 * Executes a call against the vendor's real API and returns a result the tool's result schema
 * parses (it has been parsed already). Fails with an `IntegrationError` only.
 */
export type LiveExecutor = (call: LiveCall) => Promise<unknown>;

/** A tenant's settings for one vendor, with the credentials already decrypted. */
export interface IntegrationSettings<C> {
  /** The API root; omitted, the vendor's public cloud (Jira has none: its site is required). */
  base_url?: string;
  credentials: C;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first backoff; it doubles on every retry, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * A vendor asking to wait longer than this (Retry-After) ends the call as retryable at once,
   * with the wait in `retryAfterMs`, instead of holding the step's Durable Object that long.
   */
  maxRetryAfterMs: number;
}

export interface ExecutorOptions {
  retry?: Partial<RetryPolicy>;
  /** How long `github.rollback_deployment` waits for the deployer to report success, and how often it looks. */
  deploymentWait?: { timeoutMs?: number; pollMs?: number };
  /** @pagerduty/pdjs retries a 429 three times by itself after this many ms (it ignores Retry-After). */
  pagerdutyRetryDelayMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

const secret = z.string().trim().min(1);

/** A personal access token, fine-grained token or GitHub App installation token. */
export const githubCredentials = z.object({ token: secret }).strict();
export type GitHubCredentials = z.infer<typeof githubCredentials>;

/** Jira Cloud: account email and API token (basic auth); Jira Data Center: a personal access token (bearer). */
export const jiraCredentials = z.union([
  z.object({ email: z.email(), api_token: secret }).strict(),
  z.object({ token: secret }).strict(),
]);
export type JiraCredentials = z.infer<typeof jiraCredentials>;

/** A REST API key, and the email of the PagerDuty user that writes are made as (the `From` header). */
export const pagerdutyCredentials = z.object({ token: secret, from_email: z.email() }).strict();
export type PagerDutyCredentials = z.infer<typeof pagerdutyCredentials>;

export const credentialSchemas = {
  github: githubCredentials,
  jira: jiraCredentials,
  pagerduty: pagerdutyCredentials,
} as const;
