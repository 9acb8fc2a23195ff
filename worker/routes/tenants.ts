import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createApiKey, listApiKeys, MAX_ROTATION_GRACE_MS, revokeApiKey, rotateApiKey, type ApiKeyRow } from '../auth/keys';
import { requireManage, requireGrantable, requirePlatformOwner } from '../auth/permissions';
import { sessionPrincipal } from '../auth/middleware';
import { isEmail, normalEmail, personOfKey } from '../auth/person';
import { isRefusal, principalForKey } from '../auth/principal';
import { clearSessionCookie, openSession, revokeSession, SESSION_COOKIE, setSessionCookie, verifySessionToken } from '../auth/session';
import { audit, route, router } from '../api/route';
import { IdParam, KeySchema, RoleSchema, listOf } from '../api/schemas';
import { auditAppend } from '../audit/append';
import { makeDb } from '../db/client';
import type { AppEnv, Principal } from '../env';
import { parseDuration } from '../lib/duration';
import { ApiError } from '../lib/errors';
import { notePersonOwner } from '../store/people';
import { createTenant } from '../store/tenants';

const TenantCreated = z.object({ id: z.string(), name: z.string(), admin_key: z.string() }).openapi('TenantCreated');

const Me = z
  .object({
    tenant: z.object({ id: z.string(), name: z.string() }),
    /** For a person signed in with OIDC: the session id and their display name. */
    key: z.object({ id: z.string(), name: z.string(), role: RoleSchema }),
    actor: z.object({ type: z.enum(['api_key', 'user', 'webhook']), id: z.string() }),
    person: z.string().optional().describe('The person behind the credential (DESIGN §14): a key\'s owner, or the signed-in person'),
    session: z.object({ id: z.string(), kind: z.enum(['api_key', 'oidc']), expires_at: z.string() }).optional(),
    user: z
      .object({ issuer: z.string(), subject: z.string(), email: z.string().optional(), name: z.string().optional(), groups: z.array(z.string()) })
      .optional()
      .describe('Present for people signed in with OIDC'),
  })
  .openapi('Me');

const SessionState = z
  .object({
    signed_in: z.boolean(),
    me: Me.optional().describe('Present when signed_in'),
    reason: z.string().optional().describe('Why a cookie the browser sent no longer signs it in'),
  })
  .openapi('SessionState');

function me(p: Principal): z.infer<typeof Me> {
  return {
    tenant: { id: p.tenantId, name: p.tenantName },
    key: { id: p.keyId, name: p.keyName, role: p.role },
    actor: p.actor,
    ...(p.person ? { person: p.person } : {}),
    ...(p.session ? { session: { id: p.session.id, kind: p.session.kind, expires_at: p.session.expiresAt } } : {}),
    ...(p.user ? { user: p.user } : {}),
  };
}

const ApiKeySchema = KeySchema.extend({
  expires_at: z.string().nullable().describe('A rotated key stops working at this time'),
  rotated_from: z.string().nullable().describe('The key this one replaced'),
  owner: z.string().describe('The person the key belongs to (DESIGN §14): an email, an OIDC `iss|sub`, or `key:<id>` for a key made before owners were recorded'),
}).openapi('ApiKey');

function keyView(r: ApiKeyRow): z.infer<typeof ApiKeySchema> {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    prefix: r.prefix,
    created_at: r.createdAt,
    last_used_at: r.lastUsedAt,
    revoked_at: r.revokedAt,
    expires_at: r.expiresAt,
    rotated_from: r.rotatedFrom,
    owner: personOfKey(r),
  };
}

const NewKeyBody = z
  .object({
    name: z.string().min(1).max(100),
    role: RoleSchema,
    owner: z
      .string()
      .max(320)
      .refine(isEmail, 'must be an email address')
      .transform(normalEmail)
      .optional()
      .describe('The email of the person the key is for (default: the person creating it); only an admin makes keys for someone else'),
  })
  .strict();

/**
 * Who a new key belongs to: the owner named, else the creator. Naming someone else is an admin's
 * act: anyone else could make a key "for" an invented person and pass as two people.
 */
function keyOwner(p: Principal, named: string | undefined): string | undefined {
  const self = p.person;
  if (named === undefined || named === self) return self;
  if (p.role !== 'admin') throw new ApiError('forbidden', `Role "${p.role}" may only create keys for itself; only an admin creates keys for another person`);
  return named;
}

const RotateBody = z
  .object({
    grace: z.string().max(20).default('0s').describe('How long the old key keeps working, e.g. "1h" (at most 7d; default 0s: it stops now)'),
  })
  .strict();

const Rotated = z
  .object({ id: z.string(), key: z.string(), name: z.string(), role: RoleSchema, owner: z.string().describe('Kept from the rotated key'), rotated_from: z.string(), old_key_expires_at: z.string() })
  .openapi('RotatedKey');

function graceMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw ApiError.validation([{ path: 'grace', message: `"${text}" is not a duration such as 30m, 1h or 2d` }]);
  if (ms > MAX_ROTATION_GRACE_MS) throw ApiError.validation([{ path: 'grace', message: 'must be at most 7d' }]);
  return ms;
}

export const tenantRoutes = router()
  .openapi(
    route({ method: 'post', path: '/tenants', summary: 'Create a tenant (platform owner only)', tags: ['tenants'], body: z.object({ name: z.string().min(1).max(100) }).strict(), response: TenantCreated, status: 201 }),
    async (c) => {
      const p = c.get('principal');
      requirePlatformOwner(c, 'create tenants');
      const { name } = c.req.valid('json');
      const tenant = await createTenant(makeDb(c.env.DB), { name, createdBy: p.keyId });
      await auditAppend(c.env, tenant.id, [{ actor: p.actor, action: 'tenant.created', resource: { type: 'tenant', id: tenant.id }, data: { name, by_tenant: p.tenantId } }]);
      await audit(c, { action: 'tenant.created', resource: { type: 'tenant', id: tenant.id }, data: { name } });
      return c.json({ id: tenant.id, name: tenant.name, admin_key: tenant.admin_key }, 201);
    },
  )
  .openapi(route({ method: 'get', path: '/me', summary: 'Who am I', tags: ['session'], response: Me }), (c) => c.json(me(c.get('principal')), 200))
  .openapi(
    route({ method: 'post', path: '/keys', summary: 'Create an API key (shown once)', tags: ['keys'], body: NewKeyBody, response: z.object({ id: z.string(), key: z.string(), name: z.string(), role: RoleSchema, owner: z.string().optional() }), status: 201 }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'manage API keys');
      const body = c.req.valid('json');
      const { name, role } = body;
      requireGrantable(p.role, role);
      const owner = keyOwner(p, body.owner);
      const db = makeDb(c.env.DB);
      const created = await createApiKey(db, { tenantId: p.tenantId, name, role, createdBy: p.keyId, owner });
      if (owner && isEmail(owner)) await notePersonOwner(db, p.tenantId, owner, owner);
      await audit(c, { action: 'key.created', resource: { type: 'api_key', id: created.id }, data: { name, role, prefix: created.prefix, owner } });
      return c.json({ id: created.id, key: created.key, name, role, ...(owner ? { owner } : {}) }, 201);
    },
  )
  .openapi(route({ method: 'get', path: '/keys', summary: 'List API keys (never the keys themselves)', tags: ['keys'], response: listOf(ApiKeySchema) }), async (c) => {
    const p = c.get('principal');
    await requireManage(c, 'manage API keys');
    return c.json({ items: (await listApiKeys(makeDb(c.env.DB), p.tenantId)).map(keyView) }, 200);
  })
  .openapi(
    route({ method: 'post', path: '/keys/{id}/rotate', summary: 'Replace a key with a new one; the old one works until the grace period ends', tags: ['keys'], params: IdParam, body: RotateBody, response: Rotated, status: 201 }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'manage API keys');
      const { id } = c.req.valid('param');
      const { grace } = c.req.valid('json');
      const rotated = await rotateApiKey(makeDb(c.env.DB), { tenantId: p.tenantId, keyId: id, graceMs: graceMs(grace), createdBy: p.keyId, caller: p });
      await audit(c, {
        action: 'key.rotated',
        resource: { type: 'api_key', id: rotated.id },
        data: { name: rotated.name, role: rotated.role, owner: rotated.owner, prefix: rotated.key.slice(0, 8), rotated_from: rotated.rotated_from, old_key_expires_at: rotated.old_key_expires_at, grace },
      });
      return c.json(rotated, 201);
    },
  )
  .openapi(route({ method: 'delete', path: '/keys/{id}', summary: 'Revoke an API key at once (its sessions end too)', tags: ['keys'], params: IdParam, response: ApiKeySchema }), async (c) => {
    const p = c.get('principal');
    await requireManage(c, 'manage API keys');
    const { id } = c.req.valid('param');
    const row = await revokeApiKey(makeDb(c.env.DB), p.tenantId, id, p);
    if (!row) throw ApiError.notFound('API key');
    await audit(c, { action: 'key.revoked', resource: { type: 'api_key', id }, data: { name: row.name } });
    return c.json(keyView(row), 200);
  });

/** Ends the session the request's cookie names, if any; the cookie is cleared either way. */
async function signOut(c: Context<AppEnv>): Promise<void> {
  const cookie = getCookie(c, SESSION_COOKIE);
  clearSessionCookie(c);
  const named = cookie ? await verifySessionToken(c.env, cookie) : undefined;
  if (!named) return;
  const row = await revokeSession(makeDb(c.env.DB), named.tenantId, named.sessionId);
  if (!row) return;
  await auditAppend(c.env, row.tenantId, [
    { actor: { type: row.kind === 'oidc' ? 'user' : 'api_key', id: row.subject }, action: 'session.logout', resource: { type: 'session', id: row.id }, data: { method: row.kind } },
  ]);
}

/** Sign-in with an API key: the browser gets an HttpOnly cookie instead of keeping the key. */
export const sessionRoutes = router()
  .openapi(
    route({ method: 'post', path: '/session', summary: 'Sign in with an API key (sets an HttpOnly session cookie)', tags: ['session'], auth: false, body: z.object({ key: z.string().min(1).max(200) }).strict(), response: Me }),
    async (c) => {
      const { key } = c.req.valid('json');
      const db = makeDb(c.env.DB);
      const found = await principalForKey(db, key);
      if (isRefusal(found)) throw new ApiError('unauthorized', found.reason);
      const ticket = await openSession(c.env, db, { tenantId: found.tenantId, kind: 'api_key', subject: found.keyId, role: found.role, name: found.keyName });
      setSessionCookie(c, ticket);
      await auditAppend(c.env, found.tenantId, [
        { actor: found.actor, action: 'session.login', resource: { type: 'session', id: ticket.id }, data: { method: 'api_key', key_id: found.keyId, expires_at: ticket.expiresAt } },
      ]);
      return c.json(me({ ...found, session: { id: ticket.id, kind: 'api_key', expiresAt: ticket.expiresAt } }), 200);
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/session',
      summary: 'Whether this browser is signed in, and as whom (200 either way, so a signed-out page load logs no error)',
      tags: ['session'],
      auth: false,
      response: SessionState,
    }),
    async (c) => {
      const found = await sessionPrincipal(c);
      if (!found || isRefusal(found)) {
        // A cookie that no longer names a live session is cleared, as sign-out would.
        if (found) clearSessionCookie(c);
        return c.json({ signed_in: false, ...(found ? { reason: found.reason } : {}) }, 200);
      }
      return c.json({ signed_in: true, me: me(found) }, 200);
    },
  )
  .openapi(route({ method: 'delete', path: '/session', summary: 'Sign out: ends the session and clears the cookie', tags: ['session'], auth: false, response: z.object({ ok: z.boolean() }) }), async (c) => {
    await signOut(c);
    return c.json({ ok: true }, 200);
  });
