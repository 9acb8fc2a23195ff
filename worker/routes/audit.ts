import { z } from '@hono/zod-openapi';
import { eq, type SQL } from 'drizzle-orm';
import { route, router } from '../api/route';
import { startVerify, verifyEntries } from '../audit/chain';
import { auditKeys } from '../audit/keys';
import { auditPage } from '../audit/read';
import { makeDb } from '../db/client';
import { auditLog } from '../db/schema';

const AuditEntrySchema = z
  .object({
    seq: z.number(),
    ts: z.string(),
    tenant: z.string(),
    actor: z.object({ type: z.string(), id: z.string() }),
    action: z.string(),
    resource: z.object({ type: z.string(), id: z.string() }),
    data: z.record(z.string(), z.unknown()),
    prev_hash: z.string(),
    hash: z.string(),
    key_id: z.string(),
  })
  .openapi('AuditEntry');

const PAGE = 500;

export const auditRoutes = router()
  .openapi(
    route({
      method: 'get',
      path: '/audit',
      summary: 'Audit entries in order, filtered and paged (`after` = last seq seen)',
      tags: ['audit'],
      query: z.object({
        after: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        action: z.string().max(100).optional(),
        resource_type: z.string().max(50).optional(),
        resource_id: z.string().max(200).optional(),
        actor_id: z.string().max(200).optional(),
      }),
      response: z.object({ items: z.array(AuditEntrySchema), next_after: z.number().nullable() }),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filters: SQL[] = [];
      if (q.action) filters.push(eq(auditLog.action, q.action));
      if (q.resource_type) filters.push(eq(auditLog.resourceType, q.resource_type));
      if (q.resource_id) filters.push(eq(auditLog.resourceId, q.resource_id));
      if (q.actor_id) filters.push(eq(auditLog.actorId, q.actor_id));
      const items = await auditPage(makeDb(c.env.DB), c.get('principal').tenantId, q.after, q.limit, filters);
      return c.json({ items, next_after: items.length === q.limit ? items[items.length - 1]!.seq : null }, 200);
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/audit/verify',
      summary: 'Walk the hash chain and report the first break',
      tags: ['audit'],
      response: z.object({ ok: z.boolean(), entries: z.number(), first_bad_seq: z.number().optional(), reason: z.string().optional() }),
    }),
    async (c) => {
      const db = makeDb(c.env.DB);
      const keys = auditKeys(c.env).all;
      let state = startVerify();
      for (;;) {
        const page = await auditPage(db, c.get('principal').tenantId, state.last_seq, PAGE);
        state = await verifyEntries(state, page, keys);
        if (!state.ok || page.length < PAGE) break;
      }
      return c.json({ ok: state.ok, entries: state.entries, ...(state.first_bad_seq !== undefined ? { first_bad_seq: state.first_bad_seq, reason: state.reason } : {}) }, 200);
    },
  )
  .get('/audit/export', async (c) => {
    const db = makeDb(c.env.DB);
    const tenantId = c.get('principal').tenantId;
    const encoder = new TextEncoder();
    let after = 0;
    // Streamed page by page so a long log never sits in memory whole.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const page = await auditPage(db, tenantId, after, PAGE);
        if (page.length === 0) return controller.close();
        after = page[page.length - 1]!.seq;
        controller.enqueue(encoder.encode(page.map((e) => JSON.stringify(e)).join('\n') + '\n'));
      },
    });
    return new Response(body, { headers: { 'content-type': 'application/x-ndjson', 'content-disposition': `attachment; filename="audit-${tenantId}.jsonl"` } });
  });
