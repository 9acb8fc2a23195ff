import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { route, router } from '../api/route';
import { auditAppend } from '../audit/append';
import { limitSubject } from '../auth/rate-limit';
import { makeDb } from '../db/client';
import type { AppEnv } from '../env';
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

/** Requests from one address that fail authentication: enough for a sender being set up, not a flood. */
const FAILURES_PER_ADDRESS = { requests_per_minute: 60, burst: 20 };

/**
 * Counts an unauthenticated request against its client address; 429 once the address has failed
 * too often. Only failures are counted, and a valid delivery is never refused by it: GitHub and
 * PagerDuty send every customer's webhooks from the same few addresses, so refusing an address
 * before checking the signature would let anyone's misconfigured hook lock out real alerts.
 */
async function limitFailures(c: Context<AppEnv>, client: string | undefined): Promise<void> {
  // Cloudflare sets CF-Connecting-IP on every request from the Internet; without it the request
  // came from inside (a test harness, a service binding).
  if (client) await limitSubject(c, `ip:${client}:hook-failures`, FAILURES_PER_ADDRESS);
}

/**
 * Forged deliveries reach the audit log aggregated: the first of each minute per tenant and
 * source is recorded, with how many were refused without an entry since the previous one.
 */
async function recordRejection(c: Context<AppEnv>, tenant: string, source: string, data: { reason: string; request_id: string; client: string | null }): Promise<void> {
  const tally = await c.env.LIMITER.get(c.env.LIMITER.idFromName(`hook-rejections:${tenant}:${source}`)).tallyRejection();
  if (!tally.record) return;
  await auditAppend(c.env, tenant, [
    { actor: { type: 'webhook', id: `hook:${source}` }, action: 'webhook.rejected', resource: { type: 'webhook', id: source }, data: { ...data, unrecorded_before: tally.unrecorded } },
  ]);
}

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
    const client = c.req.header('cf-connecting-ip');
    const integration = await getIntegration(db, tenant, source);
    const secrets = integration ? await webhookSecrets(c.env, integration) : [];
    // Unknown tenant and unconfigured source answer alike: nothing about the tenant is revealed.
    if (!integration || secrets.length === 0) {
      await limitFailures(c, client);
      throw new ApiError('not_found', `No ${source} webhook is configured here`);
    }

    const body = await c.req.text();
    const actor = { type: 'webhook', id: `hook:${source}` };
    const verdict = await VERIFIERS[source as HookSource](c.req.raw.headers, body, secrets);
    if (!verdict.ok && !verdict.field) {
      // Forged or stale: the signature is checked before anything the real sender relies on is
      // spent, so a flood cannot empty the source's bucket; the flood's own address is limited.
      await limitFailures(c, client);
      await recordRejection(c, tenant, source, { reason: verdict.reason, request_id: c.get('requestId'), client: client ?? null });
      throw new ApiError('unauthorized', `Webhook rejected: ${verdict.reason}`);
    }
    // Bursts are normal (an alert storm), floods are not: a generous bucket per tenant and source,
    // spent only by requests that proved their sender.
    await limitSubject(c, `hook:${tenant}:${source}`, { requests_per_minute: 600, burst: 200 });
    if (!verdict.ok) {
      // Authenticated but malformed: the sender can fix it, so say which field (400), not 401.
      await auditAppend(c.env, tenant, [{ actor, action: 'webhook.rejected', resource: { type: 'webhook', id: source }, data: { reason: verdict.reason, request_id: c.get('requestId') } }]);
      throw ApiError.validation([{ path: verdict.field!, message: verdict.reason }]);
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
