import { z } from '@hono/zod-openapi';
import { audit, route, router } from '../api/route';
import { requirePlatformOwner } from '../auth/permissions';
import { makeDb } from '../db/client';
import { ApiError } from '../lib/errors';
import { resealAll } from '../store/reseal';

const ResealSchema = z
  .object({
    checked: z.number().int().describe('Stored secrets looked at (integration credentials and webhook secrets, cluster signing keys, OIDC client secrets)'),
    resealed: z.number().int().describe('Sealed again with SECRETS_KEY: they opened only with SECRETS_KEY_PREVIOUS'),
    unreadable: z
      .array(z.object({ tenant_id: z.string(), what: z.string(), fix: z.string() }))
      .describe('Opened by neither key: their owners must enter them again. Empty: SECRETS_KEY_PREVIOUS can be deleted'),
  })
  .openapi('ResealReport');

/** `POST /secrets/reseal`: the second half of a SECRETS_KEY rotation (docs/deploy.md, rotating keys). */
export const secretsRoutes = router().openapi(
  route({
    method: 'post',
    path: '/secrets/reseal',
    summary: 'After a SECRETS_KEY rotation (old key in SECRETS_KEY_PREVIOUS), seal every stored secret with the new key (platform owner only; safe to repeat)',
    tags: ['meta'],
    response: ResealSchema,
  }),
  async (c) => {
    requirePlatformOwner(c, "reseal the installation's stored secrets");
    if (!c.env.SECRETS_KEY) throw new ApiError('unavailable', 'SECRETS_KEY is not set: there is no key to seal with');
    const report = await resealAll(c.env, makeDb(c.env.DB));
    await audit(c, {
      action: 'secrets.resealed',
      resource: { type: 'installation', id: 'secrets' },
      data: { checked: report.checked, resealed: report.resealed, unreadable: report.unreadable.length, previous_key_set: Boolean(c.env.SECRETS_KEY_PREVIOUS) },
    });
    return c.json(report, 200);
  },
);
