import { z } from '@hono/zod-openapi';
import { isEmail, normalEmail } from '../auth/person';
import { requireGrantable, requireManage } from '../auth/permissions';
import { atLeast } from '../auth/roles';
import { audit, route, router } from '../api/route';
import { RoleSchema, listOf } from '../api/schemas';
import { makeDb } from '../db/client';
import { ApiError } from '../lib/errors';
import { assignPersonRole, effectiveRole, getPerson, listPeople, liveKeyRoles } from '../store/people';

const PersonSchema = z
  .object({
    id: z.string().describe('The person as duties compare them: their email, an OIDC `iss|sub`, or `key:<id>` for a key made before owners were recorded'),
    email: z.string().nullable(),
    name: z.string().nullable(),
    role: RoleSchema.nullable(),
    role_source: z
      .enum(['oidc_groups', 'assigned', 'keys'])
      .nullable()
      .describe('Where the role comes from: their identity provider groups, an admin (PUT /people), or the highest of their live keys'),
    oidc_subject: z.string().nullable().describe('The OIDC `iss|sub` they last signed in as'),
    keys: z.number().int().describe('Their live API keys'),
    last_seen_at: z.string().nullable(),
  })
  .openapi('Person');

const EmailParam = z.object({
  email: z
    .string()
    .max(320)
    .refine(isEmail, 'must be an email address')
    .transform(normalEmail)
    .openapi({ param: { name: 'email', in: 'path' }, example: 'ann@example.com' }),
});

/** The tenant's people (DESIGN §14): who can act, with their role, and roles for people without a group mapping. */
export const peopleRoutes = router()
  .openapi(route({ method: 'get', path: '/people', summary: "The tenant's people with their role", tags: ['people'], response: listOf(PersonSchema) }), async (c) => {
    await requireManage(c, 'manage people');
    return c.json({ items: await listPeople(makeDb(c.env.DB), c.get('principal').tenantId) }, 200);
  })
  .openapi(
    route({
      method: 'put',
      path: '/people/{email}',
      summary: 'Set the role of a person whose identity provider groups map to none (for example someone who approves from chat)',
      tags: ['people'],
      params: EmailParam,
      body: z.object({ role: RoleSchema }).strict(),
      response: PersonSchema,
    }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'manage people');
      const { email } = c.req.valid('param');
      const { role } = c.req.valid('json');
      // Nobody grants a role above their own, nor changes the role of someone above them.
      requireGrantable(p.role, role, `give ${email} the`);
      const db = makeDb(c.env.DB);
      const current = await getPerson(db, p.tenantId, email);
      if (current?.groupsRole) {
        throw new ApiError('conflict', `${email} gets the role "${current.groupsRole}" from their identity provider groups; change the tenant's role_mapping instead`);
      }
      const before = effectiveRole(current, await liveKeyRoles(db, p.tenantId, email));
      if (before.role && !atLeast(p.role, before.role)) {
        throw new ApiError('forbidden', `Role "${p.role}" may not change the role of ${email}, who holds "${before.role}" (above your own)`);
      }
      const row = await assignPersonRole(db, p.tenantId, email, role, p.person ?? p.actor.id);
      await audit(c, { action: 'person.role_set', resource: { type: 'person', id: email }, data: { role, before: before.role } });
      const view = (await listPeople(db, p.tenantId)).find((x) => x.id === row.id);
      return c.json(view!, 200);
    },
  );
