import { z } from '@hono/zod-openapi';
import { route, router } from '../api/route';
import { auditAppend } from '../audit/append';
import { limitSubject } from '../auth/rate-limit';
import { makeDb } from '../db/client';
import { deliver } from '../hooks/deliver';
import { VERIFIERS, type HookSource } from '../hooks/verify';
import { ApiError } from '../lib/errors';
import { getIntegration, webhookSecrets } from '../store/integrations';

const HookParams = z.object({ tenant: z.string().min(1).max(100), source: z.enum(['github', 'pagerduty', 'alertmanager', 'generic']) });

const DeliverySchema = z
  .object({
    delivery: z.string(),
    duplicate: z.boolean().describe('True when this delivery id was received before: nothing new was started'),
    runs: z.array(z.string()).describe('Runs the delivery started'),
    matches: z.array(z.object({ runbook: z.string(), trigger: z.number(), run: z.string().optional(), error: z.string().optional() })),
  })
  .openapi('WebhookDelivery');

/**
 * `POST /hooks/{tenant}/{source}`: a vendor's webhook. Authenticated by the source's own scheme
 * (signature or token over the raw body, checked in constant time), not by API keys.
 */
export const hookRoutes = router().openapi(
  route({
    method: 'post',
    path: '/hooks/{tenant}/{source}',
    summary: 'Receive a webhook (GitHub, PagerDuty v3, Alertmanager, generic HMAC); matching runbook triggers start runs',
    tags: ['webhooks'],
    auth: false,
    params: HookParams,
    // Read raw (signatures cover the exact bytes), so the body is not parsed by a validator first.
    rawBody: ['*/*'],
    response: DeliverySchema,
    status: 202,
  }),
  async (c) => {
    const { tenant, source } = c.req.valid('param');
    const db = makeDb(c.env.DB);
    // Bursts are normal (an alert storm), floods are not: a generous bucket per tenant and source.
    await limitSubject(c, `hook:${tenant}:${source}`, { requests_per_minute: 600, burst: 200 });
    const integration = await getIntegration(db, tenant, source);
    const secrets = integration ? await webhookSecrets(c.env, integration) : [];
    // Unknown tenant and unconfigured source answer alike: nothing about the tenant is revealed.
    if (!integration || secrets.length === 0) throw new ApiError('not_found', `No ${source} webhook is configured here`);

    const body = await c.req.text();
    const actor = { type: 'webhook', id: `hook:${source}` };
    const verdict = await VERIFIERS[source as HookSource](c.req.raw.headers, body, secrets);
    if (!verdict.ok) {
      await auditAppend(c.env, tenant, [{ actor, action: 'webhook.rejected', resource: { type: 'webhook', id: source }, data: { reason: verdict.reason, request_id: c.get('requestId') } }]);
      // Authenticated but malformed: the sender can fix it, so say which field (400), not 401.
      if (verdict.field) throw ApiError.validation([{ path: verdict.field, message: verdict.reason }]);
      throw new ApiError('unauthorized', `Webhook rejected: ${verdict.reason}`);
    }
    let event: unknown;
    try {
      event = JSON.parse(body);
    } catch {
      throw ApiError.validation([{ path: '(body)', message: 'must be JSON' }]);
    }
    // Every supported sender posts one JSON object; anything else is not an event.
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw ApiError.validation([{ path: '(body)', message: 'must be a JSON object' }]);
    const result = await deliver(c.env, db, { tenantId: tenant, source, deliveryId: verdict.deliveryId, dedupeKey: verdict.dedupeKey, eventType: verdict.eventType, event, runAs: integration.runAsRole });
    await auditAppend(c.env, tenant, [
      {
        actor,
        action: result.duplicate ? 'webhook.duplicate' : 'webhook.received',
        resource: { type: 'webhook', id: source },
        data: { delivery: result.delivery, event_type: verdict.eventType ?? null, runs: result.runs, matches: result.matches },
        source_key: `hook:${source}:${result.delivery}:${result.duplicate ? c.get('requestId') : 'first'}`,
      },
    ]);
    return c.json(result, 202);
  },
);
