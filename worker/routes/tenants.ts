import { z } from '@hono/zod-openapi';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { deleteCookie, setCookie } from 'hono/cookie';
import { createApiKey, principalForKey } from '../auth/keys';
import { requireRole } from '../auth/middleware';
import { SESSION_COOKIE, SESSION_TTL_SECONDS, signSession } from '../auth/session';
import { audit, route, router } from '../api/route';
import { IdParam, KeySchema, RoleSchema, listOf } from '../api/schemas';
import { makeDb } from '../db/client';
import { apiKeys } from '../db/schema';
import { ApiError } from '../lib/errors';
import { auditAppend } from '../audit/append';
import { createTenant } from '../store/tenants';

const TenantCreated = z.object({ id: z.string(), name: z.string(), admin_key: z.string() }).openapi('TenantCreated');
const Me = z.object({ tenant: z.object({ id: z.string(), name: z.string() }), key: z.object({ id: z.string(), name: z.string(), role: RoleSchema }) }).openapi('Me');

export const tenantRoutes = router()
  .openapi(
    route({ method: 'post', path: '/tenants', summary: 'Create a tenant (platform owner only)', tags: ['tenants'], body: z.object({ name: z.string().min(1).max(100) }).strict(), response: TenantCreated, status: 201 }),
    async (c) => {
      const p = c.get('principal');
      if (!p.platformOwner) throw new ApiError('forbidden', 'Only the platform owner may create tenants');
      const { name } = c.req.valid('json');
      const tenant = await createTenant(makeDb(c.env.DB), { name, createdBy: p.keyId });
      await auditAppend(c.env, tenant.id, [{ actor: p.actor, action: 'tenant.created', resource: { type: 'tenant', id: tenant.id }, data: { name, by_tenant: p.tenantId } }]);
      await audit(c, { action: 'tenant.created', resource: { type: 'tenant', id: tenant.id }, data: { name } });
      return c.json({ id: tenant.id, name: tenant.name, admin_key: tenant.admin_key }, 201);
    },
  )
  .openapi(route({ method: 'get', path: '/me', summary: 'Who am I', tags: ['session'], response: Me }), (c) => {
    const p = c.get('principal');
    return c.json({ tenant: { id: p.tenantId, name: p.tenantName }, key: { id: p.keyId, name: p.keyName, role: p.role } }, 200);
  })
  .openapi(
    route({ method: 'post', path: '/keys', summary: 'Create an API key (shown once)', tags: ['keys'], body: z.object({ name: z.string().min(1).max(100), role: RoleSchema }).strict(), response: z.object({ id: z.string(), key: z.string(), name: z.string(), role: RoleSchema }), status: 201 }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'admin', 'manage API keys');
      const { name, role } = c.req.valid('json');
      const created = await createApiKey(makeDb(c.env.DB), { tenantId: p.tenantId, name, role, createdBy: p.keyId });
      await audit(c, { action: 'key.created', resource: { type: 'api_key', id: created.id }, data: { name, role, prefix: created.prefix } });
      return c.json({ id: created.id, key: created.key, name, role }, 201);
    },
  )
  .openapi(route({ method: 'get', path: '/keys', summary: 'List API keys (never the keys themselves)', tags: ['keys'], response: listOf(KeySchema) }), async (c) => {
    const p = c.get('principal');
    requireRole(p, 'admin', 'manage API keys');
    const rows = await makeDb(c.env.DB).select().from(apiKeys).where(eq(apiKeys.tenantId, p.tenantId)).orderBy(desc(apiKeys.createdAt));
    return c.json({
      items: rows.map((r) => ({ id: r.id, name: r.name, role: r.role, prefix: r.prefix, created_at: r.createdAt, last_used_at: r.lastUsedAt, revoked_at: r.revokedAt })),
    }, 200);
  })
  .openapi(route({ method: 'delete', path: '/keys/{id}', summary: 'Revoke an API key', tags: ['keys'], params: IdParam, response: KeySchema }), async (c) => {
    const p = c.get('principal');
    requireRole(p, 'admin', 'manage API keys');
    const { id } = c.req.valid('param');
    const db = makeDb(c.env.DB);
    const [row] = await db
      .update(apiKeys)
      .set({ revokedAt: new Date().toISOString() })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.tenantId, p.tenantId), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) throw ApiError.notFound('API key');
    await audit(c, { action: 'key.revoked', resource: { type: 'api_key', id }, data: { name: row.name } });
    return c.json({ id: row.id, name: row.name, role: row.role, prefix: row.prefix, created_at: row.createdAt, last_used_at: row.lastUsedAt, revoked_at: row.revokedAt }, 200);
  });

/** Sign-in with an API key: the browser gets an HttpOnly cookie instead of keeping the key. */
export const sessionRoutes = router()
  .openapi(
    route({ method: 'post', path: '/session', summary: 'Sign in with an API key (sets an HttpOnly session cookie)', tags: ['session'], auth: false, body: z.object({ key: z.string().min(1).max(200) }).strict(), response: Me }),
    async (c) => {
      const { key } = c.req.valid('json');
      const p = await principalForKey(makeDb(c.env.DB), key);
      if (!p) throw new ApiError('unauthorized', 'Invalid or revoked API key');
      const token = await signSession(c.env, p.tenantId, p.keyId);
      setCookie(c, SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'Strict',
        secure: new URL(c.req.url).protocol === 'https:',
        path: '/',
        maxAge: SESSION_TTL_SECONDS,
      });
      await auditAppend(c.env, p.tenantId, [{ actor: p.actor, action: 'session.login', resource: { type: 'api_key', id: p.keyId }, data: { method: 'api_key' } }]);
      return c.json({ tenant: { id: p.tenantId, name: p.tenantName }, key: { id: p.keyId, name: p.keyName, role: p.role } }, 200);
    },
  )
  .openapi(route({ method: 'delete', path: '/session', summary: 'Sign out', tags: ['session'], auth: false, response: z.object({ ok: z.boolean() }) }), (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true }, 200);
  });
