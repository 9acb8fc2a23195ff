import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { audit, route, router } from '../api/route';
import { requireMappingWithin } from '../auth/grants';
import { requireManage } from '../auth/permissions';
import { makeDb } from '../db/client';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/errors';
import { encryptSecret } from '../lib/secrets';
import { platformCeilings } from '../policy/ceilings';
import {
  businessHoursSchema,
  changeFreezeSchema,
  getTenantSettings,
  putTenantSettings,
  rateLimitSettingsSchema,
  tenantSettingsSchema,
  type StoredOidcSettings,
  type StoredTenantSettings,
  type TenantSettings,
} from '../store/settings';

const RoleEnum = z.enum(['viewer', 'operator', 'sre', 'admin']);

const OidcView = z.object({
  issuer: z.string(),
  client_id: z.string(),
  client_secret_set: z.boolean().describe('Whether a client secret is stored; the secret itself is never returned'),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
  scopes: z.array(z.string()),
  groups_claim: z.string(),
  role_mapping: z.record(z.string(), RoleEnum),
  default_role: RoleEnum.optional(),
  redirect_uri: z.string().describe('Read-only: register this redirect URI with the identity provider'),
  login_url: z.string().describe('Read-only: where people start signing in'),
});

const SettingsView = z
  .object({
    oidc: OidcView.optional(),
    rate_limit: rateLimitSettingsSchema.optional(),
    time_zone: z.string().optional().describe('IANA time zone of business hours and of `now` in policies (default UTC)'),
    business_hours: businessHoursSchema.optional().describe('`now.business_hours` in policies (default mon–fri 09:00–17:00)'),
    change_freezes: z.array(changeFreezeSchema).optional().describe('`now.change_freeze` in policies'),
  })
  .openapi('TenantSettings');

/** The schedule fields (policies' trusted time facts), kept as sent. */
const SCHEDULE_KEYS = ['time_zone', 'business_hours', 'change_freezes'] as const;

function view(c: Context<AppEnv>, tenantId: string, s: StoredTenantSettings): z.infer<typeof SettingsView> {
  const out: z.infer<typeof SettingsView> = {};
  if (s.oidc) {
    const { client_secret_enc, ...rest } = s.oidc;
    out.oidc = {
      ...rest,
      client_secret_set: client_secret_enc !== undefined,
      redirect_uri: new URL('/api/v1/auth/oidc/callback', c.req.url).toString(),
      login_url: new URL(`/api/v1/auth/oidc/${encodeURIComponent(tenantId)}/login`, c.req.url).toString(),
    };
  }
  if (s.rate_limit) out.rate_limit = s.rate_limit;
  for (const k of SCHEDULE_KEYS) if (s[k] !== undefined) (out as Record<string, unknown>)[k] = s[k];
  return out;
}

/**
 * The stored form of new OIDC settings. A secret sent is encrypted; a secret left out keeps the
 * stored one while issuer and client stay the same (so a mapping can change without re-entering
 * it) and is dropped when they change (it belonged to the other client).
 */
async function storedOidc(c: Context<AppEnv>, tenantId: string, next: NonNullable<TenantSettings['oidc']>, current: StoredOidcSettings | undefined): Promise<StoredOidcSettings> {
  const { client_secret, ...rest } = next;
  const method = rest.token_endpoint_auth_method;
  if (method === 'none' && client_secret) {
    throw ApiError.validation([{ path: 'oidc.client_secret', message: 'a public client (token_endpoint_auth_method "none") has no secret' }]);
  }
  let enc: string | undefined;
  if (method === 'none') enc = undefined;
  else if (client_secret) enc = await encryptSecret(c.env, tenantId, client_secret);
  else if (current?.client_secret_enc && current.issuer === rest.issuer && current.client_id === rest.client_id) enc = current.client_secret_enc;
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !enc) {
    throw ApiError.validation([{ path: 'oidc.client_secret', message: `is required for token_endpoint_auth_method "${method}"` }]);
  }
  return { ...rest, ...(enc ? { client_secret_enc: enc } : {}) };
}

/** A tenant's rate limit must stay under the platform's ceiling: the limiter is shared. */
function checkedRate(c: Context<AppEnv>, rate: NonNullable<TenantSettings['rate_limit']>): NonNullable<TenantSettings['rate_limit']> {
  const ceilings = platformCeilings(c.env);
  const details: { path: string; message: string }[] = [];
  if (rate.requests_per_minute > ceilings.requests_per_minute) {
    details.push({ path: 'rate_limit.requests_per_minute', message: `must be at most ${ceilings.requests_per_minute}, the platform's ceiling` });
  }
  if ((rate.burst ?? rate.requests_per_minute) > ceilings.burst) {
    details.push({ path: 'rate_limit.burst', message: `must be at most ${ceilings.burst}, the platform's ceiling${rate.burst === undefined ? ' (unset, it equals requests_per_minute)' : ''}` });
  }
  if (details.length) throw ApiError.validation(details);
  return rate;
}

/** What the audit log records of OIDC settings: everything shown, and how the client authenticates. */
function auditedOidc(shown: z.infer<typeof OidcView>, secretSent: boolean): Record<string, unknown> {
  const { client_secret_set, redirect_uri: _r, login_url: _l, ...rest } = shown;
  return { ...rest, client_auth: secretSent ? 'secret_replaced' : client_secret_set ? 'secret_kept' : 'public_client' };
}

export const settingsRoutes = router()
  .openapi(route({ method: 'get', path: '/settings', summary: 'Tenant settings: OIDC sign-in, rate limits, and the schedule policies read (time zone, business hours, change freezes); admin, secrets never returned', tags: ['settings'], response: SettingsView }), async (c) => {
    const p = c.get('principal');
    await requireManage(c, 'read tenant settings');
    return c.json(view(c, p.tenantId, await getTenantSettings(makeDb(c.env.DB), p.tenantId)), 200);
  })
  .openapi(
    route({
      method: 'put',
      path: '/settings',
      summary: 'Replace the tenant settings (admin). Leaving out oidc.client_secret keeps the stored one for the same issuer and client.',
      tags: ['settings'],
      body: tenantSettingsSchema,
      response: SettingsView,
    }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'change tenant settings');
      const body = c.req.valid('json');
      const db = makeDb(c.env.DB);
      const current = await getTenantSettings(db, p.tenantId);
      requireMappingWithin(p.role, body.oidc, current.oidc);
      const next: StoredTenantSettings = {};
      if (body.oidc) next.oidc = await storedOidc(c, p.tenantId, body.oidc, current.oidc);
      if (body.rate_limit) next.rate_limit = checkedRate(c, body.rate_limit);
      for (const k of SCHEDULE_KEYS) if (body[k] !== undefined) (next as Record<string, unknown>)[k] = body[k];
      await putTenantSettings(db, p.tenantId, next);
      const shown = view(c, p.tenantId, next);
      await audit(c, {
        action: 'settings.updated',
        resource: { type: 'tenant', id: p.tenantId },
        data: {
          oidc: shown.oidc ? auditedOidc(shown.oidc, body.oidc?.client_secret !== undefined) : null,
          rate_limit: shown.rate_limit ?? null,
          time_zone: shown.time_zone ?? null,
          business_hours: shown.business_hours ?? null,
          change_freezes: shown.change_freezes ?? null,
        },
      });
      return c.json(shown, 200);
    },
  );
