import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { DB } from '../db/client';
import { integrations } from '../db/schema';
import type { Env, Role } from '../env';
import { ApiError, zodDetails } from '../lib/errors';
import { outboundPolicy, refuseOutboundUrl } from '../lib/outbound-url';
import { decryptSecret, encryptSecret } from '../lib/secrets';
import { credentialSchemas, type Vendor } from '../integrations/types';
import { checkedTargetLabels, labelsSchema } from '../policy/labels';

export const SOURCES = ['github', 'jira', 'pagerduty', 'alertmanager', 'generic'] as const;
export type Source = (typeof SOURCES)[number];
/** Sources whose tools can run live; the others only send webhooks. */
export const TOOL_VENDORS: readonly Vendor[] = ['github', 'jira', 'pagerduty'];
const isToolVendor = (s: Source): s is Vendor => (TOOL_VENDORS as readonly string[]).includes(s);

/** How long the previous webhook secret keeps working after it is replaced. */
export const WEBHOOK_ROTATION_GRACE_MS = 24 * 3600_000;

export const integrationBody = z
  .object({
    mode: z.enum(['simulated', 'live']).optional(),
    base_url: z.url({ protocol: /^https?$/ }).max(500).nullable().optional(),
    credentials: z.record(z.string(), z.unknown()).optional().describe('Stored encrypted, never returned. GitHub { token }; Jira { email, api_token } or { token }; PagerDuty { token, from_email }'),
    webhook_secret: z.string().min(16, 'must be at least 16 characters').max(500).optional().describe('Stored encrypted, never returned; the previous one keeps working for 24 h'),
    run_as_role: z.enum(['viewer', 'operator', 'sre', 'admin']).optional().describe('The role runs started by this source\'s webhooks act with (default operator)'),
    target_labels: z
      .record(z.string().min(1).max(200), labelsSchema)
      .optional()
      .describe('Labels per target, read by policies as `target.labels`: GitHub "owner/repo", Jira project key, PagerDuty service id → { environment: "prod", … }. Replaces the stored map.'),
  })
  .strict();
export type IntegrationBody = z.infer<typeof integrationBody>;

export interface IntegrationView {
  vendor: Source;
  mode: 'simulated' | 'live';
  base_url: string | null;
  credentials_set: boolean;
  webhook_secret_set: boolean;
  previous_secret_valid_until: string | null;
  webhook_url: string;
  run_as_role: Role;
  target_labels: Record<string, Record<string, string>>;
  updated_at: string | null;
}

type Row = typeof integrations.$inferSelect;

/** The webhook secret replaced last is still accepted (its overlap has not ended). */
export function previousSecretLive(row: Pick<Row, 'previousWebhookSecretEnc' | 'previousSecretExpiresAt'>, now = Date.now()): boolean {
  return Boolean(row.previousWebhookSecretEnc) && row.previousSecretExpiresAt !== null && Date.parse(row.previousSecretExpiresAt) > now;
}

export function viewOf(origin: string, tenantId: string, vendor: Source, row: Row | undefined, now = Date.now()): IntegrationView {
  const prevValid = row && previousSecretLive(row, now) ? row.previousSecretExpiresAt : null;
  return {
    vendor,
    mode: row?.mode ?? 'simulated',
    base_url: row?.baseUrl ?? null,
    credentials_set: Boolean(row?.credentialsEnc),
    webhook_secret_set: Boolean(row?.webhookSecretEnc),
    previous_secret_valid_until: prevValid,
    webhook_url: `${origin}/api/v1/hooks/${tenantId}/${vendor}`,
    run_as_role: (row?.runAsRole ?? 'operator') as Role,
    target_labels: row?.targetLabels ?? {},
    updated_at: row?.updatedAt ?? null,
  };
}

export async function getIntegration(db: DB, tenantId: string, vendor: Source): Promise<Row | undefined> {
  const [row] = await db.select().from(integrations).where(and(eq(integrations.tenantId, tenantId), eq(integrations.vendor, vendor))).limit(1);
  return row;
}

export async function listIntegrations(db: DB, tenantId: string): Promise<Row[]> {
  return db.select().from(integrations).where(eq(integrations.tenantId, tenantId));
}

/**
 * Applies a change (fields left out keep their stored values). Credentials are validated against
 * the vendor's shape before anything is stored; live mode needs credentials (and Jira a site).
 */
export async function putIntegration(env: Env, db: DB, tenantId: string, vendor: Source, body: IntegrationBody, actorId: string, now = Date.now()): Promise<Row> {
  const current = await getIntegration(db, tenantId, vendor);
  if (!isToolVendor(vendor)) {
    if (body.mode === 'live' || body.credentials !== undefined || body.base_url) {
      throw ApiError.validation([{ path: body.credentials !== undefined ? 'credentials' : body.mode === 'live' ? 'mode' : 'base_url', message: `${vendor} only sends webhooks: it has no tools, mode, base URL or credentials` }]);
    }
  }
  let credentialsEnc = current?.credentialsEnc ?? null;
  if (body.credentials !== undefined && isToolVendor(vendor)) {
    const parsed = credentialSchemas[vendor].safeParse(body.credentials);
    // The details name fields, never values.
    if (!parsed.success) throw ApiError.validation(zodDetails(parsed.error, 'credentials').map((d) => ({ path: d.path, message: d.message })));
    credentialsEnc = await encryptSecret(env, tenantId, JSON.stringify(parsed.data));
  }
  const mode = body.mode ?? current?.mode ?? 'simulated';
  const baseUrl = body.base_url === undefined ? current?.baseUrl ?? null : body.base_url;
  if (body.base_url) {
    const refused = refuseOutboundUrl(body.base_url, outboundPolicy(env));
    if (refused) throw ApiError.validation([{ path: 'base_url', message: refused }]);
  }
  // Stored credentials were given for one host: they are never sent to another without being given again.
  if (baseUrl !== (current?.baseUrl ?? null) && current?.credentialsEnc && body.credentials === undefined) {
    throw ApiError.validation([{ path: 'credentials', message: 'a new base_url needs the credentials again: stored credentials are only sent to the host they were given for' }]);
  }
  if (mode === 'live') {
    if (!credentialsEnc) throw ApiError.validation([{ path: 'credentials', message: 'live mode needs credentials' }]);
    if (vendor === 'jira' && !baseUrl) throw ApiError.validation([{ path: 'base_url', message: 'Jira needs your site, e.g. https://acme.atlassian.net' }]);
  }
  let webhookSecretEnc = current?.webhookSecretEnc ?? null;
  let previousWebhookSecretEnc = current?.previousWebhookSecretEnc ?? null;
  let previousSecretExpiresAt = current?.previousSecretExpiresAt ?? null;
  if (body.webhook_secret !== undefined) {
    const old = webhookSecretEnc ? await decryptSecret(env, tenantId, webhookSecretEnc) : undefined;
    if (old !== body.webhook_secret) {
      // Rotation: the sender may still sign with the old secret until it is updated everywhere.
      previousWebhookSecretEnc = webhookSecretEnc;
      previousSecretExpiresAt = webhookSecretEnc ? new Date(now + WEBHOOK_ROTATION_GRACE_MS).toISOString() : null;
      webhookSecretEnc = await encryptSecret(env, tenantId, body.webhook_secret);
    }
  }
  const values = {
    tenantId,
    vendor,
    mode,
    baseUrl,
    credentialsEnc,
    webhookSecretEnc,
    previousWebhookSecretEnc,
    previousSecretExpiresAt,
    runAsRole: body.run_as_role ?? current?.runAsRole ?? 'operator',
    targetLabels: checkedTargetLabels(vendor, body.target_labels) ?? current?.targetLabels ?? {},
    updatedBy: actorId,
    updatedAt: new Date(now).toISOString(),
  } satisfies typeof integrations.$inferInsert;
  await db.insert(integrations).values(values).onConflictDoUpdate({ target: [integrations.tenantId, integrations.vendor], set: values });
  liveCache.delete(`${tenantId}:${vendor}`);
  return { ...values } as Row;
}

/** The decrypted credentials of a tool vendor, for a test-connection call or a live executor. */
export async function decryptedSettings(env: Env, row: Row): Promise<{ base_url?: string; credentials: unknown } | undefined> {
  if (!row.credentialsEnc) return undefined;
  // Also at use: a URL saved before the rule, or under a deployment that allowed private hosts.
  const refused = row.baseUrl ? refuseOutboundUrl(row.baseUrl, outboundPolicy(env)) : undefined;
  if (refused) throw ApiError.validation([{ path: 'base_url', message: `the stored base_url ${refused}; set another with PUT /integrations/${row.vendor}` }]);
  const credentials = JSON.parse(await decryptSecret(env, row.tenantId, row.credentialsEnc)) as unknown;
  return { ...(row.baseUrl ? { base_url: row.baseUrl } : {}), credentials };
}

/** Secrets that verify a source's webhooks now: the current one and, during rotation, the previous. */
export async function webhookSecrets(env: Env, row: Row, now = Date.now()): Promise<string[]> {
  const out: string[] = [];
  if (row.webhookSecretEnc) out.push(await decryptSecret(env, row.tenantId, row.webhookSecretEnc));
  if (row.previousWebhookSecretEnc && previousSecretLive(row, now)) {
    out.push(await decryptSecret(env, row.tenantId, row.previousWebhookSecretEnc));
  }
  return out;
}

// Live settings are read on every live call; each isolate keeps them for a short while.
const LIVE_TTL_MS = 30_000;
const liveCache = new Map<string, { at: number; value: Promise<{ base_url?: string; credentials: unknown; secrets: string[] } | undefined> }>();

/** A tool vendor's decrypted live settings, or undefined when the tenant runs it simulated. */
export function liveSettings(env: Env, db: DB, tenantId: string, vendor: Vendor): Promise<{ base_url?: string; credentials: unknown; secrets: string[] } | undefined> {
  const key = `${tenantId}:${vendor}`;
  const hit = liveCache.get(key);
  if (hit && Date.now() - hit.at < LIVE_TTL_MS) return hit.value;
  const value = (async () => {
    const row = await getIntegration(db, tenantId, vendor);
    if (!row || row.mode !== 'live') return undefined;
    const settings = await decryptedSettings(env, row);
    if (!settings) return undefined;
    return { ...settings, secrets: secretStrings(settings.credentials) };
  })();
  value.catch(() => liveCache.delete(key));
  liveCache.set(key, { at: Date.now(), value });
  if (liveCache.size > 5_000) liveCache.delete(liveCache.keys().next().value!);
  return value;
}

/** Every string in a credentials object that could be echoed back (tokens, passwords, email:token pairs). */
function secretStrings(credentials: unknown): string[] {
  const out: string[] = [];
  if (credentials && typeof credentials === 'object') {
    const c = credentials as Record<string, unknown>;
    for (const [k, v] of Object.entries(c)) if (typeof v === 'string' && !/email|user|login/i.test(k)) out.push(v);
    if (typeof c.email === 'string' && typeof c.api_token === 'string') out.push(`${c.email}:${c.api_token}`, btoa(`${c.email}:${c.api_token}`));
  }
  return out;
}

