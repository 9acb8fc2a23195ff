import { z } from '@hono/zod-openapi';
import { eq, type SQL } from 'drizzle-orm';
import { route, router } from '../api/route';
import { entryLeafHash, startVerify, verifyEntries } from '../audit/chain';
import { auditSigningKey } from '../audit/config';
import { viaAuditLog } from '../audit/append';
import { exportStream, type ExportSource } from '../audit/export';
import { auditKeys } from '../audit/keys';
import { toHexHash } from '../audit/merkle';
import type { Answer, ConsistencyView, InclusionView } from '../audit/proofs';
import { auditPage } from '../audit/read';
import { signNote } from '../audit/signing-key';
import { makeDb } from '../db/client';
import { auditLog } from '../db/schema';
import type { Env } from '../env';
import { ApiError } from '../lib/errors';

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

const Hex = z.string().describe('SHA-256, 64 hex digits');

const CheckpointSchema = z
  .object({
    tree_size: z.number(),
    root_hash: Hex,
    ts: z.string(),
    key_id: z.string(),
    note: z.string().describe('The signed checkpoint in the C2SP format (c2sp.org/tlog-checkpoint), verbatim'),
  })
  .openapi('AuditCheckpoint');

const SigningKeySchema = z
  .object({
    key_id: z.string(),
    algorithm: z.literal('Ed25519'),
    public_key: z.string().describe('Raw 32-byte Ed25519 public key, base64'),
    vkey: z.string().describe('Note verifier key <origin>+<key id>+<base64>: what `npm run audit:verify -- --public-key` takes'),
    added_at: z.string(),
    added_at_tree_size: z.number(),
  })
  .openapi('AuditSigningKey');

const PAGE = 500;

const auditLogOf = (env: Env, tenantId: string) => env.AUDIT.get(env.AUDIT.idFromName(tenantId));

/** D1 gets the audit object's entries just after it answers their appends: a reader of D1 first lets it catch up. */
const settled = (env: Env, tenantId: string) => viaAuditLog(auditLogOf(env, tenantId).settle());

/** A proof answer, or the 400/404 it stands for. */
function answered<T>(a: Answer<T>): T {
  if (a.ok) return a.value;
  if (a.code === 'not_found') throw new ApiError('not_found', a.message);
  throw ApiError.validation([{ path: a.path ?? '(query)', message: a.message }]);
}

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
      const tenantId = c.get('principal').tenantId;
      await settled(c.env, tenantId);
      const items = await auditPage(makeDb(c.env.DB), tenantId, q.after, q.limit, filters);
      return c.json({ items, next_after: items.length === q.limit ? items[items.length - 1]!.seq : null }, 200);
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/audit/verify',
      summary: 'Walk the hash chain, compare every entry with the signed Merkle tree, and report the first break',
      tags: ['audit'],
      response: z.object({ ok: z.boolean(), entries: z.number(), first_bad_seq: z.number().optional(), reason: z.string().optional() }),
    }),
    async (c) => {
      const db = makeDb(c.env.DB);
      const tenantId = c.get('principal').tenantId;
      const stub = auditLogOf(c.env, tenantId);
      // The log's size before the walk: D1 must hold at least that many (later appends may be on their way).
      const size = await settled(c.env, tenantId);
      const keys = auditKeys(c.env).all;
      let state = startVerify();
      for (;;) {
        const page = await auditPage(db, tenantId, state.last_seq, PAGE);
        state = await verifyEntries(state, page, keys);
        // The chain holds against the HMAC key; the tree holds against whoever has the key and the database.
        const checked = page.filter((e) => e.seq <= state.last_seq);
        if (checked.length > 0) {
          const leaves = await viaAuditLog(stub.leafHashes(tenantId, checked[0]!.seq, checked.length));
          const bad = checked.find((e, i) => leaves[i] !== toHexHash(entryLeafHash(e)));
          if (bad) {
            const reason = leaves[bad.seq - checked[0]!.seq] === undefined ? 'entry is not in the signed Merkle tree (inserted)' : 'entry differs from the signed Merkle tree (altered, and re-chained with the HMAC key)';
            return c.json({ ok: false, entries: bad.seq - 1, first_bad_seq: bad.seq, reason }, 200);
          }
        }
        if (!state.ok || page.length < PAGE) break;
      }
      if (state.ok && state.entries < size) {
        return c.json({ ok: false, entries: state.entries, first_bad_seq: state.entries + 1, reason: `entry ${state.entries + 1} is missing (the signed tree holds ${size} entries)` }, 200);
      }
      return c.json({ ok: state.ok, entries: state.entries, ...(state.first_bad_seq !== undefined ? { first_bad_seq: state.first_bad_seq, reason: state.reason } : {}) }, 200);
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/audit/checkpoints',
      summary: "Signed checkpoints of the tenant's audit log (C2SP format), oldest first, with the public keys that signed them",
      tags: ['audit'],
      query: z.object({
        after: z.coerce.number().int().min(0).default(0).describe('Tree size of the last checkpoint seen'),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      response: z.object({
        origin: z.string(),
        tree_size: z.number(),
        root_hash: Hex,
        signing: z.boolean().describe('Whether checkpoints are being signed (AUDIT_SIGNING_KEY is set)'),
        items: z.array(CheckpointSchema),
        keys: z.array(SigningKeySchema),
        next_after: z.number().nullable(),
      }),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = c.get('principal').tenantId;
      const stub = auditLogOf(c.env, tenantId);
      const head = await viaAuditLog(stub.head(tenantId));
      const page = await viaAuditLog(stub.checkpoints(tenantId, q.after, q.limit));
      return c.json(
        {
          origin: head.origin,
          tree_size: head.tree_size,
          root_hash: head.root_hash,
          signing: head.signing,
          items: page.items,
          keys: page.keys,
          next_after: page.items.length === q.limit ? page.items[page.items.length - 1]!.tree_size : null,
        },
        200,
      );
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/audit/proof/inclusion',
      summary: 'RFC 6962 inclusion proof of entry `seq` in the tree of the first `tree_size` entries (default: all)',
      tags: ['audit'],
      query: z.object({ seq: z.coerce.number().int().min(1), tree_size: z.coerce.number().int().min(1).optional() }),
      response: z.object({
        seq: z.number(),
        tree_size: z.number(),
        leaf_index: z.number(),
        leaf_hash: Hex,
        root_hash: Hex,
        proof: z.array(Hex),
        checkpoint: CheckpointSchema.optional(),
      }),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = c.get('principal').tenantId;
      // The RPC stub types a union-returning method as a union of promises; it is one Answer.
      const answer = auditLogOf(c.env, tenantId).inclusionProof(tenantId, q.seq, q.tree_size) as unknown as Promise<Answer<InclusionView>>;
      return c.json(answered(await viaAuditLog(answer)), 200);
    },
  )
  .openapi(
    route({
      method: 'get',
      path: '/audit/proof/consistency',
      summary: 'RFC 6962 consistency proof that the tree of `from` entries is a prefix of the tree of `to` entries (default: all)',
      tags: ['audit'],
      query: z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1).optional() }),
      response: z.object({ from: z.number(), to: z.number(), from_root: Hex, to_root: Hex, proof: z.array(Hex) }),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = c.get('principal').tenantId;
      const answer = auditLogOf(c.env, tenantId).consistencyProof(tenantId, q.from, q.to) as unknown as Promise<Answer<ConsistencyView>>;
      return c.json(answered(await viaAuditLog(answer)), 200);
    },
  )
  .get('/audit/export', async (c) => {
    const tenantId = c.get('principal').tenantId;
    const stub = auditLogOf(c.env, tenantId);
    // A checkpoint of every entry first, so the export is signed to its last line.
    const { head, keys } = await viaAuditLog(stub.exportStart(tenantId));
    const signingKey = head.signing ? await auditSigningKey(c.env).catch(() => undefined) : undefined;
    const source: ExportSource = {
      tenantId,
      origin: head.origin,
      treeSize: head.tree_size,
      keys,
      checkpoints: async (after, maxSize, limit) => (await stub.checkpoints(tenantId, after, limit, maxSize)).items,
      ...(signingKey && keys.some((k) => k.key_id === signingKey.id) ? { signManifest: (text: string) => signNote(text, head.origin, signingKey) } : {}),
    };
    return new Response(exportStream(makeDb(c.env.DB), source), {
      headers: { 'content-type': 'application/x-ndjson', 'content-disposition': `attachment; filename="audit-${tenantId}.jsonl"` },
    });
  });
