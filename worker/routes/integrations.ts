import { z } from '@hono/zod-openapi';
import { audit, route, router } from '../api/route';
import { listOf } from '../api/schemas';
import { requireRunAsWithin } from '../auth/grants';
import { requireManage } from '../auth/permissions';
import { makeDb } from '../db/client';
import type { Vendor } from '../integrations/types';
import { testConnection } from '../integrations/test-connection';
import { ApiError } from '../lib/errors';
import { SOURCES, TOOL_VENDORS, decryptedSettings, getIntegration, integrationBody, listIntegrations, putIntegration, viewOf, type Source } from '../store/integrations';

const VendorParam = z.object({ vendor: z.enum(SOURCES) });

const IntegrationSchema = z
  .object({
    vendor: z.enum(SOURCES),
    mode: z.enum(['simulated', 'live']),
    base_url: z.string().nullable(),
    credentials_set: z.boolean(),
    webhook_secret_set: z.boolean(),
    previous_secret_valid_until: z.string().nullable().describe('During a webhook secret rotation, when the old secret stops working'),
    webhook_url: z.string().describe('Where the vendor sends its webhooks'),
    run_as_role: z.enum(['viewer', 'operator', 'sre', 'admin']),
    target_labels: z.record(z.string(), z.record(z.string(), z.string())).describe('Labels per repository, project or service: `target.labels` in policies'),
    updated_at: z.string().nullable(),
  })
  .openapi('Integration');

const ConnectionCheckSchema = z
  .object({ ok: z.boolean(), identity: z.string().optional(), message: z.string(), latency_ms: z.number() })
  .openapi('ConnectionCheck');

const originOf = (url: string) => new URL(url).origin;

export const integrationRoutes = router()
  .openapi(route({ method: 'get', path: '/integrations', summary: 'Integration settings of every source (never secrets)', tags: ['integrations'], response: listOf(IntegrationSchema) }), async (c) => {
    const p = c.get('principal');
    await requireManage(c, 'read integration settings');
    const rows = new Map((await listIntegrations(makeDb(c.env.DB), p.tenantId)).map((r) => [r.vendor, r]));
    return c.json({ items: SOURCES.map((s) => viewOf(originOf(c.req.url), p.tenantId, s, rows.get(s))) }, 200);
  })
  .openapi(route({ method: 'get', path: '/integrations/{vendor}', summary: 'One integration\'s settings (never secrets)', tags: ['integrations'], params: VendorParam, response: IntegrationSchema }), async (c) => {
    const p = c.get('principal');
    await requireManage(c, 'read integration settings');
    const { vendor } = c.req.valid('param');
    return c.json(viewOf(originOf(c.req.url), p.tenantId, vendor, await getIntegration(makeDb(c.env.DB), p.tenantId, vendor)), 200);
  })
  .openapi(
    route({
      method: 'put',
      path: '/integrations/{vendor}',
      summary: 'Change an integration: mode, base URL, credentials (encrypted, never returned), webhook secret, the role webhook runs act with',
      tags: ['integrations'],
      params: VendorParam,
      body: integrationBody,
      response: IntegrationSchema,
    }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'change integrations');
      const { vendor } = c.req.valid('param');
      const body = c.req.valid('json');
      const db = makeDb(c.env.DB);
      const before = await getIntegration(db, p.tenantId, vendor);
      requireRunAsWithin(p.role, body.run_as_role ?? before?.runAsRole ?? 'operator', before?.runAsRole);
      const row = await putIntegration(c.env, db, p.tenantId, vendor, body, p.actor.id);
      // What changed, never the secrets themselves.
      await audit(c, {
        action: 'integration.updated',
        resource: { type: 'integration', id: vendor },
        data: {
          mode: row.mode,
          base_url: row.baseUrl,
          credentials_changed: body.credentials !== undefined,
          webhook_secret_changed: body.webhook_secret !== undefined,
          run_as_role: row.runAsRole,
          ...(body.target_labels !== undefined ? { target_labels: row.targetLabels } : {}),
        },
      });
      return c.json(viewOf(originOf(c.req.url), p.tenantId, vendor, row), 200);
    },
  )
  .openapi(
    route({ method: 'post', path: '/integrations/{vendor}/test', summary: 'Check the stored URL and credentials with one authenticated read', tags: ['integrations'], params: VendorParam, response: ConnectionCheckSchema }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'test integrations');
      const { vendor } = c.req.valid('param');
      if (!(TOOL_VENDORS as readonly Source[]).includes(vendor)) throw ApiError.validation([{ path: 'vendor', message: `${vendor} only sends webhooks; there is no connection to test` }]);
      const row = await getIntegration(makeDb(c.env.DB), p.tenantId, vendor);
      const settings = row ? await decryptedSettings(c.env, row) : undefined;
      if (!settings) throw ApiError.validation([{ path: 'credentials', message: `no credentials stored for ${vendor}: PUT /integrations/${vendor} first` }]);
      const signal = AbortSignal.timeout(10_000);
      const result = await testConnection(vendor as Vendor, settings, signal);
      await audit(c, { action: 'integration.tested', resource: { type: 'integration', id: vendor }, data: { ok: result.ok, message: result.message } });
      return c.json(result, 200);
    },
  );
