import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { DB } from '../db/client';
import { tenants } from '../db/schema';
import { refuseOutboundUrl } from '../lib/outbound-url';

const role = z.enum(['viewer', 'operator', 'sre', 'admin']);

/**
 * https, or http on the local machine (a development IdP); never a link-local or metadata address.
 * Whether loopback and private hosts may be used is the deployment's to say, at sign-in
 * (auth/oidc-discovery.ts). The issuer URL must match the ID token's `iss` exactly.
 */
function isIssuerUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.search || url.hash || url.username || url.password) return false;
    if (refuseOutboundUrl(value, { allowPrivate: true })) return false;
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

/**
 * OIDC sign-in for people: authorization code with PKCE against `issuer`; the ID token is
 * verified against the issuer's JWKS; `groups_claim` of the token maps to a role through
 * `role_mapping` (the highest mapped role wins; no mapped group and no `default_role` → refused).
 */
export const oidcSettingsSchema = z
  .object({
    issuer: z.string().url().refine(isIssuerUrl, 'must be an https URL without query or fragment, not a link-local or metadata address (http only for localhost)'),
    client_id: z.string().min(1).max(500),
    /** Stored encrypted; never returned. Public clients (PKCE only) leave it out. */
    client_secret: z.string().min(1).max(2000).optional(),
    /**
     * How the client authenticates at the token endpoint. Default: `none` without a secret,
     * otherwise `client_secret_basic` unless the issuer only lists `client_secret_post`.
     */
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a single scope token'))
      .max(50)
      .default(['openid', 'email', 'profile', 'groups'])
      .refine((s) => s.includes('openid'), 'must include "openid"'),
    /** Claim holding the groups; a dotted path (`realm_access.roles`) reaches into nested claims. */
    groups_claim: z.string().min(1).max(200).default('groups'),
    role_mapping: z.record(z.string().min(1).max(500), role).default({}),
    default_role: role.optional(),
  })
  .strict();

export const rateLimitSettingsSchema = z
  .object({
    /** Sustained requests per minute per subject (API key or signed-in person). */
    requests_per_minute: z.number().int().min(1).max(100_000),
    /** Bucket size: how many requests may arrive at once; defaults to requests_per_minute. */
    burst: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

/** What an admin sends with `PUT /settings`. */
export const tenantSettingsSchema = z
  .object({
    oidc: oidcSettingsSchema.optional(),
    rate_limit: rateLimitSettingsSchema.optional(),
  })
  .strict();

/** OIDC settings as stored: the client secret only as ciphertext (worker/lib/secrets.ts). */
export const storedOidcSettingsSchema = oidcSettingsSchema
  .omit({ client_secret: true })
  .extend({ client_secret_enc: z.string().optional() })
  .strict();

/** `tenants.settings` as stored. */
export const storedTenantSettingsSchema = z
  .object({
    oidc: storedOidcSettingsSchema.optional(),
    rate_limit: rateLimitSettingsSchema.optional(),
  })
  .strict();

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type OidcSettings = z.infer<typeof oidcSettingsSchema>;
export type RateLimitSettings = z.infer<typeof rateLimitSettingsSchema>;
export type StoredTenantSettings = z.infer<typeof storedTenantSettingsSchema>;
export type StoredOidcSettings = z.infer<typeof storedOidcSettingsSchema>;

/**
 * Reads stored settings. A row that no longer parses (hand-edited, or written by an older
 * version) is logged and read as empty, which turns sign-in by OIDC off rather than guessing.
 */
export function parseTenantSettings(raw: unknown, tenantId: string): StoredTenantSettings {
  const parsed = storedTenantSettingsSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  console.warn(JSON.stringify({ level: 'warn', message: 'tenant settings do not parse; ignored', tenant_id: tenantId, issues: parsed.error.issues.map((i) => i.path.join('.')) }));
  return {};
}

export async function getTenantSettings(db: DB, tenantId: string): Promise<StoredTenantSettings> {
  const [row] = await db.select({ settings: tenants.settings }).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  return parseTenantSettings(row?.settings, tenantId);
}

export async function putTenantSettings(db: DB, tenantId: string, settings: StoredTenantSettings): Promise<void> {
  await db.update(tenants).set({ settings: storedTenantSettingsSchema.parse(settings) }).where(eq(tenants.id, tenantId));
}
