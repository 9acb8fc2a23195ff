import { z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { agentConfigSummarySchema, describeAgentConfig } from '../agents/config';
import { ADMIN_KEY_RULE } from '../auth/keys';
import { route, router } from '../api/route';
import { auditAppend } from '../audit/append';
import { makeDb } from '../db/client';
import { apiKeys, tenants } from '../db/schema';
import { sha256Hex, timingSafeEqual } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { createRunbook, findRunbook } from '../store/runbooks';
import { createTenant } from '../store/tenants';
import { SAMPLE_RUNBOOKS } from '../../runbooks';

const BootstrapBody = z
  .object({
    admin_key: z.string().regex(ADMIN_KEY_RULE.pattern, ADMIN_KEY_RULE.message),
    tenant_name: z.string().min(1).max(100).default('demo'),
    samples: z.boolean().default(true),
    /** Create the first tenant if there is none; never add the key to an existing installation. */
    only_if_empty: z.boolean().default(false),
  })
  .strict();

/**
 * First-run setup: creates the demo tenant with the given admin key (also the platform owner),
 * the default policy and the sample runbooks. Allowed only with the deployment's one-time
 * `BOOTSTRAP_TOKEN`. On an installation that already has tenants it adds nothing: the key must be
 * one of its own (a restart of `npm start` with the same key), else 409.
 */
export const bootstrapRoutes = router().openapi(
  route({
    method: 'post',
    path: '/bootstrap',
    summary: 'First-run setup (needs the X-Bootstrap-Token header)',
    tags: ['meta'],
    auth: false,
    body: BootstrapBody,
    response: z.object({
      tenant_id: z.string(),
      created: z.boolean(),
      key_added: z.boolean(),
      runbooks: z.array(z.string()),
      agents: agentConfigSummarySchema.describe('What the agents of this installation use (from its variables), or why that configuration does not load'),
    }),
  }),
  async (c) => {
    const token = c.req.header('x-bootstrap-token') ?? '';
    if (!c.env.BOOTSTRAP_TOKEN || !timingSafeEqual(token, c.env.BOOTSTRAP_TOKEN)) throw new ApiError('forbidden', 'Bootstrap is not enabled, or the bootstrap token is wrong');
    const body = c.req.valid('json');
    const db = makeDb(c.env.DB);
    const [first] = await db.select().from(tenants).orderBy(asc(tenants.createdAt)).limit(1);
    let tenantId: string;
    let created = false;
    let keyAdded = false;
    if (!first) {
      const tenant = await createTenant(db, { name: body.tenant_name, createdBy: 'bootstrap', adminKey: body.admin_key, platformOwner: true });
      tenantId = tenant.id;
      created = keyAdded = true;
      await auditAppend(c.env, tenantId, [{ actor: { type: 'system', id: 'bootstrap' }, action: 'tenant.created', resource: { type: 'tenant', id: tenantId }, data: { name: body.tenant_name } }]);
    } else if (body.only_if_empty) {
      tenantId = first.id;
    } else {
      // Once the installation has tenants, bootstrap mints nothing: whoever holds a deployment's
      // BOOTSTRAP_TOKEN (often left set) would otherwise make themselves platform owner at will.
      tenantId = first.id;
      const [existing] = await db
        .select({ id: apiKeys.id, platformOwner: apiKeys.platformOwner, revokedAt: apiKeys.revokedAt })
        .from(apiKeys)
        .where(eq(apiKeys.hash, await sha256Hex(body.admin_key)))
        .limit(1);
      if (!existing?.platformOwner || existing.revokedAt) {
        throw new ApiError(
          'conflict',
          'This installation is already set up: bootstrap adds no keys to it. Use the platform owner\'s key (POST /keys/{id}/rotate replaces it), or start from an empty database',
          [{ path: 'admin_key', message: "is not the platform owner's key of this installation" }],
        );
      }
    }
    const seeded: string[] = [];
    if (body.samples) {
      for (const yaml of SAMPLE_RUNBOOKS) {
        const rb = await createRunbookIfMissing(db, tenantId, yaml);
        if (rb) {
          seeded.push(rb.name);
          await auditAppend(c.env, tenantId, [{ actor: { type: 'system', id: 'bootstrap' }, action: 'runbook.created', resource: { type: 'runbook', id: rb.id }, data: rb }]);
        }
      }
    }
    return c.json({ tenant_id: tenantId, created, key_added: keyAdded, runbooks: seeded, agents: describeAgentConfig(c.env) }, 200);
  },
);

async function createRunbookIfMissing(db: ReturnType<typeof makeDb>, tenantId: string, yaml: string) {
  const name = /^\s*name:\s*([a-z0-9-]+)/m.exec(yaml)?.[1];
  if (name && (await findRunbook(db, tenantId, name))) return undefined;
  return createRunbook(db, tenantId, yaml, 'bootstrap');
}
