import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { DB } from '../db/client';
import { tenants } from '../db/schema';
import { isTimeZone, WEEKDAYS } from '../policy/facts';
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

const clock = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time "HH:MM" (00:00 to 24:00)');

/** When people are at work, in the tenant's time zone: `now.business_hours` in policies. */
export const businessHoursSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7),
    start: clock,
    end: clock,
  })
  .strict()
  .refine((b) => b.start < b.end, { message: 'end must be after start (hours that cross midnight: use two days)', path: ['end'] });

/** A window in which changes are frozen: `now.change_freeze` in policies. */
export const changeFreezeSchema = z
  .object({
    name: z.string().min(1).max(100),
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine((f) => Date.parse(f.start) < Date.parse(f.end), { message: 'end must be after start', path: ['end'] });

/** The tenant's schedule: the facts behind `tenant` and `now` in policies (DESIGN §13). */
const scheduleFields = {
  /** IANA time zone of business hours and of `now`'s local fields; default UTC. */
  time_zone: z.string().max(100).refine(isTimeZone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"').optional(),
  business_hours: businessHoursSchema.optional(),
  change_freezes: z.array(changeFreezeSchema).max(100).optional(),
};

/** What an admin sends with `PUT /settings`. */
export const tenantSettingsSchema = z
  .object({
    oidc: oidcSettingsSchema.optional(),
    rate_limit: rateLimitSettingsSchema.optional(),
    ...scheduleFields,
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
    ...scheduleFields,
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
