import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, entryLeafHash, sealEntry, type AuditEntry, type AuditInput } from '../worker/audit/chain';
import { openCheckpoint, parseVerifierKey } from '../worker/audit/checkpoint';
import { fromHexHash, verifyConsistency, verifyInclusion } from '../worker/audit/merkle';
import { AuditStore } from '../worker/audit/store';
import { verifyExportText } from '../worker/audit/verify-export';
import { AuditWriter } from '../worker/audit/writer';
import { makeDb } from '../worker/db/client';
import { auditLog } from '../worker/db/schema';
import type { Env } from '../worker/env';
import { api, json, newTenant, settleAudit, type TestTenant } from './helpers';

/** The secret bindings of the test Worker (vitest.workers.config.ts). */
const vars = env as unknown as Record<string, string | undefined>;

const HMAC_KEYS = JSON.parse(vars.AUDIT_HMAC_KEYS!) as Record<string, string>;

interface CheckpointsBody {
  origin: string;
  tree_size: number;
  root_hash: string;
  signing: boolean;
  items: { tree_size: number; root_hash: string; key_id: string; note: string }[];
  keys: { key_id: string; vkey: string }[];
}

const auditObject = (tenantId: string) => env.AUDIT.get(env.AUDIT.idFromName(tenantId));

function inputs(n: number, from = 1): AuditInput[] {
  return Array.from({ length: n }, (_, i) => ({
    actor: { type: 'api_key', id: 'key_test' },
    action: 'runbook.created',
    resource: { type: 'runbook', id: `rb_${from + i}` },
    data: { name: `rb-${from + i}`, note: `entry ${from + i} ✓` },
  }));
}

async function entries(t: TestTenant): Promise<AuditEntry[]> {
  return (await json<{ items: AuditEntry[] }>(api('/audit?limit=1000', { key: t.keys.viewer }))).items;
}

const checkpoints = (t: TestTenant) => json<CheckpointsBody>(api('/audit/checkpoints', { key: t.keys.viewer }));
const exportOf = async (t: TestTenant) => (await api('/audit/export', { key: t.keys.viewer })).text();

/** A writer over the object's own storage with other settings (cadence, keys), as a redeploy would have. */
async function withWriter(t: TestTenant, vars: Record<string, string>, fn: (w: AuditWriter) => Promise<void>): Promise<void> {
  await runInDurableObject(auditObject(t.id), async (instance, state) => {
    const writer = new AuditWriter({ ...env, ...vars } as unknown as Env, new AuditStore(state.storage), makeDb(env.DB), async () => {});
    await fn(writer);
    // The object's own writer read the old state into memory: make it read storage again.
    (instance as unknown as { writer: AuditWriter }).writer.reset();
  });
}

async function newSigningKey(): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return btoa(String.fromCharCode(...new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer)));
}

// Checkpoints are signed with a binding of the test Worker (vitest.workers.config.ts, AUDIT_SIGNING_KEY).
beforeAll(() => expect(vars.AUDIT_SIGNING_KEY, 'bind AUDIT_SIGNING_KEY in vitest.workers.config.ts').toBeTruthy());

describe('audit checkpoints and proofs', () => {
  it('signs a checkpoint of every entry when exporting, and the offline verifier accepts the export', async () => {
    const t = await newTenant();
    await auditObject(t.id).append(t.id, inputs(25));
    const before = await checkpoints(t);
    expect(before).toMatchObject({ origin: `agentrunbook/audit/${t.id}`, tree_size: 25, signing: true, items: [] });
    expect(before.keys).toHaveLength(1);

    const text = await exportOf(t);
    const after = await checkpoints(t);
    expect(after.items.map((c) => c.tree_size)).toEqual([25]);
    expect(after.items[0]!.root_hash).toBe(after.root_hash);
    const vkey = parseVerifierKey(after.keys[0]!.vkey);
    expect(openCheckpoint(after.items[0]!.note, [vkey])).toMatchObject({ origin: after.origin, size: 25 });

    const report = verifyExportText(text, { hmacKeys: HMAC_KEYS, publicKeys: [after.keys[0]!.vkey] });
    expect(report, JSON.stringify(report.problem)).toMatchObject({ ok: true, entries: 25, hmac_checked: true, checkpoints_verified: 1, signed_tree_size: 25, root_hash: after.root_hash });
    expect(report.exported_at).toBeDefined();
    // The lines the API serves are the entries the export holds.
    expect(text).toContain(JSON.stringify((await entries(t))[0]!.hash));
  });

  it('proves the inclusion of every entry and the consistency of later checkpoints with earlier ones', async () => {
    const t = await newTenant();
    await auditObject(t.id).append(t.id, inputs(11));
    await exportOf(t); // checkpoint at 11
    await auditObject(t.id).append(t.id, inputs(6, 12));
    await exportOf(t); // checkpoint at 17
    const cps = await checkpoints(t);
    expect(cps.items.map((c) => c.tree_size)).toEqual([11, 17]);
    const keys = cps.keys.map((k) => parseVerifierKey(k.vkey));
    const [a, b] = cps.items.map((c) => openCheckpoint(c.note, keys));
    const all = await entries(t);

    for (const e of all.slice(0, 11)) {
      const p = await json<{ leaf_index: number; proof: string[]; root_hash: string; leaf_hash: string; checkpoint?: { tree_size: number } }>(
        api(`/audit/proof/inclusion?seq=${e.seq}&tree_size=11`, { key: t.keys.viewer }),
      );
      expect(p.leaf_hash).toBe(Buffer.from(entryLeafHash(e)).toString('hex'));
      expect(p.checkpoint?.tree_size).toBe(11);
      verifyInclusion(p.leaf_index, 11, entryLeafHash(e), p.proof.map(fromHexHash), a!.root);
    }
    const latest = await json<{ tree_size: number; proof: string[] }>(api('/audit/proof/inclusion?seq=17', { key: t.keys.viewer }));
    verifyInclusion(16, latest.tree_size, entryLeafHash(all[16]!), latest.proof.map(fromHexHash), b!.root);

    const c = await json<{ from_root: string; to_root: string; proof: string[] }>(api('/audit/proof/consistency?from=11&to=17', { key: t.keys.viewer }));
    verifyConsistency(11, 17, a!.root, b!.root, c.proof.map(fromHexHash));
    expect(() => verifyConsistency(11, 17, b!.root, a!.root, c.proof.map(fromHexHash))).toThrow();
  });

  it('answers 400 naming the field for sizes outside the log, and 404 for an empty log', async () => {
    const empty = await newTenant();
    expect((await api('/audit/proof/inclusion?seq=1', { key: empty.keys.viewer })).status).toBe(404);
    const t = await newTenant();
    await auditObject(t.id).append(t.id, inputs(3));
    const cases: [string, string][] = [
      ['/audit/proof/inclusion?seq=4', 'query.seq'],
      ['/audit/proof/inclusion?seq=1&tree_size=9', 'query.tree_size'],
      ['/audit/proof/inclusion?seq=0', 'query.seq'],
      ['/audit/proof/consistency?from=3&to=2', 'query.from'],
      ['/audit/proof/consistency?from=1&to=4', 'query.to'],
    ];
    for (const [path, field] of cases) {
      const res = await api(path, { key: t.keys.viewer });
      const body = await json<{ error: { code: string; details: { path: string }[] } }>(res);
      expect(res.status, path).toBe(400);
      expect(body.error.details.map((d) => d.path), path).toContain(field);
    }
  });

  it('signs a checkpoint T seconds after the first entry it covers (the alarm), and every N entries', async () => {
    const t = await newTenant();
    const stub = auditObject(t.id);
    await stub.append(t.id, inputs(3));
    expect((await checkpoints(t)).items).toEqual([]);
    // Time passes (never waited on): the first uncovered entry is now two minutes old.
    await runInDurableObject(stub, (instance, state) => {
      const store = new AuditStore(state.storage);
      store.setHead({ ...store.head()!, pendingSince: Date.now() - 120_000 });
      (instance as unknown as { writer: AuditWriter }).writer.reset();
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await checkpoints(t)).items.map((c) => c.tree_size)).toEqual([3]);

    const u = await newTenant();
    await withWriter(u, { AUDIT_CHECKPOINT_EVERY: '4' }, async (w) => {
      for (let i = 0; i < 4; i++) await w.append(u.id, inputs(3, 1 + i * 3));
    });
    expect((await checkpoints(u)).items.map((c) => c.tree_size)).toEqual([6, 12]);
  });

  it('records rotations of the HMAC key and of the signing key, and the export verifies across both', async () => {
    const t = await newTenant();
    await auditObject(t.id).append(t.id, inputs(4));
    await exportOf(t);
    const k2 = 'second-audit-hmac-key';
    await withWriter(t, { AUDIT_HMAC_KEYS: JSON.stringify({ ...HMAC_KEYS, k2 }), AUDIT_KEY_ID: 'k2', AUDIT_SIGNING_KEY: await newSigningKey() }, async (w) => {
      await w.append(t.id, inputs(3, 5));
      await w.checkpointNow(t.id);
    });
    const rotations = (await json<{ items: AuditEntry[] }>(api('/audit?action=audit.key_rotated', { key: t.keys.viewer }))).items;
    expect(rotations.map((e) => [e.data.kind, e.key_id])).toEqual([
      ['hmac', 'k2'],
      ['signing', 'k2'],
    ]);
    const cps = await checkpoints(t);
    expect(cps.keys).toHaveLength(2);
    expect(cps.items.map((c) => c.key_id)).toEqual([cps.keys[0]!.key_id, cps.keys[1]!.key_id]);
    expect(rotations[1]!.data.key_id).toBe(cps.keys[1]!.key_id);

    const text = await exportOf(t);
    const vkeys = cps.keys.map((k) => k.vkey);
    expect(verifyExportText(text, { hmacKeys: { ...HMAC_KEYS, k2 }, publicKeys: vkeys })).toMatchObject({ ok: true, entries: 9, checkpoints_verified: 2 });
    expect(verifyExportText(text, { hmacKeys: HMAC_KEYS, publicKeys: vkeys }).problem).toMatchObject({ kind: 'hmac', seq: 5 });
  });

  it('adopts entries written before the tree existed, and refuses a log that does not verify', async () => {
    const db = makeDb(env.DB);
    const seed = async (t: TestTenant, tamper: boolean) => {
      let prev = GENESIS_HASH;
      for (const [i, input] of inputs(6).entries()) {
        const e = await sealEntry({ id: 'k1', secret: HMAC_KEYS.k1! }, t.id, i + 1, prev, input);
        prev = e.hash;
        const data = tamper && i === 3 ? { ...e.data, note: 'changed' } : e.data;
        await db.insert(auditLog).values({ tenantId: t.id, seq: e.seq, ts: e.ts, actorType: e.actor.type, actorId: e.actor.id, action: e.action, resourceType: e.resource.type, resourceId: e.resource.id, data: JSON.stringify(data), prevHash: e.prev_hash, hash: e.hash, keyId: e.key_id });
      }
    };
    const t = await newTenant();
    await seed(t, false);
    expect((await checkpoints(t)).tree_size).toBe(6);
    const text = await exportOf(t);
    expect(verifyExportText(text, { hmacKeys: HMAC_KEYS })).toMatchObject({ ok: true, entries: 6, checkpoints_verified: 1 });

    const bad = await newTenant();
    await seed(bad, true);
    const res = await api('/audit/checkpoints', { key: bad.keys.viewer });
    expect(res.status).toBe(503);
    expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(/does not verify at entry 4/);
  });

  it('catches rows changed in D1 even when the attacker re-chains them with the HMAC key', async () => {
    const t = await newTenant();
    await auditObject(t.id).append(t.id, inputs(8));
    const original = await exportOf(t);
    const pinned = (await checkpoints(t)).keys.map((k) => k.vkey);
    // Rewrite entry 3 and re-chain 3..8 with the real key: the HMAC chain alone now verifies.
    const rows = await entries(t);
    let prev = rows[1]!.hash;
    for (const e of rows.slice(2)) {
      const { hash: _h, ...body } = e;
      const changed = { ...body, prev_hash: prev, data: e.seq === 3 ? { ...e.data, note: 'nothing happened' } : e.data };
      const sealed = await sealEntry({ id: 'k1', secret: HMAC_KEYS.k1! }, t.id, e.seq, prev, { ts: e.ts, actor: e.actor, action: e.action, resource: e.resource, data: changed.data });
      prev = sealed.hash;
      await env.DB.prepare('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE tenant_id = ? AND seq = ?').bind(JSON.stringify(sealed.data), sealed.prev_hash, sealed.hash, t.id, e.seq).run();
    }
    const verify = await json<{ ok: boolean; first_bad_seq: number; reason: string }>(api('/audit/verify', { key: t.keys.viewer }));
    expect(verify).toMatchObject({ ok: false, first_bad_seq: 3 });
    expect(verify.reason).toMatch(/signed Merkle tree/);

    const report = verifyExportText(await exportOf(t), { hmacKeys: HMAC_KEYS, publicKeys: pinned });
    expect(report.problem).toMatchObject({ kind: 'tree', seq: 1 });
    expect(verifyExportText(original, { hmacKeys: HMAC_KEYS, publicKeys: pinned }).ok).toBe(true);
  });

  it('reports entries missing from the end of D1 against the tree', async () => {
    const t = await newTenant();
    await auditObject(t.id).append(t.id, inputs(5));
    await settleAudit(t.id);
    await env.DB.prepare('DELETE FROM audit_log WHERE tenant_id = ? AND seq = 5').bind(t.id).run();
    expect(await json(api('/audit/verify', { key: t.keys.viewer }))).toMatchObject({ ok: false, entries: 4, first_bad_seq: 5, reason: expect.stringMatching(/missing/) });
    const report = verifyExportText(await exportOf(t), { hmacKeys: HMAC_KEYS });
    expect(report.problem).toMatchObject({ kind: 'truncated', seq: 5 });
  });
});
