import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { DB } from '../db/client';
import { tenants } from '../db/schema';

const role = z.enum(['viewer', 'operator', 'sre', 'admin']);

/**
 * OIDC sign-in for people: authorization code with PKCE against `issuer`; the ID token is
 * verified against the issuer's JWKS; `groups_claim` of the token maps to a role through
 * `role_mapping` (the highest mapped role wins; no mapped group and no `default_role` → refused).
 */
export const oidcSettingsSchema = z
  .object({
    issuer: z.string().url(),
    client_id: z.string().min(1),
    /** Stored encrypted; never returned. Public clients (PKCE only) leave it out. */
    client_secret: z.string().min(1).optional(),
    scopes: z.array(z.string()).default(['openid', 'email', 'profile', 'groups']),
    groups_claim: z.string().default('groups'),
    role_mapping: z.record(z.string(), role).default({}),
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

export const tenantSettingsSchema = z
  .object({
    oidc: oidcSettingsSchema.optional(),
    rate_limit: rateLimitSettingsSchema.optional(),
  })
  .strict();

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type OidcSettings = z.infer<typeof oidcSettingsSchema>;
export type RateLimitSettings = z.infer<typeof rateLimitSettingsSchema>;

export async function getTenantSettings(db: DB, tenantId: string): Promise<TenantSettings> {
  const [row] = await db.select({ settings: tenants.settings }).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  const parsed = tenantSettingsSchema.safeParse(row?.settings ?? {});
  return parsed.success ? parsed.data : {};
}

export async function putTenantSettings(db: DB, tenantId: string, settings: TenantSettings): Promise<void> {
  await db.update(tenants).set({ settings }).where(eq(tenants.id, tenantId));
}
