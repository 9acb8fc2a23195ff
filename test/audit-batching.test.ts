import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealEntry, type AuditInput } from '../worker/audit/chain';
import type { AuditStore } from '../worker/audit/store';
import { AuditWriter } from '../worker/audit/writer';
import { makeDb } from '../worker/db/client';
import { auditLog } from '../worker/db/schema';
import type { Env } from '../worker/env';
import { api, json, newTenant, type TestTenant } from './helpers';

/**
 * The audit object commits appends in batches: callers that arrive while a batch is being written
 * share the next one (one storage transaction, one D1 write), duplicates are found in its own
 * storage, and D1 gets its copy behind the answers.
 */

const HMAC_KEYS = JSON.parse((env as unknown as Record<string, string>).AUDIT_HMAC_KEYS!) as Record<string, string>;

const auditObject = (tenantId: string) => env.AUDIT.get(env.AUDIT.idFromName(tenantId));
type AuditStub = ReturnType<typeof auditObject>;

/** The object's parts a test reaches into (private in the class). */
interface Internals {
  writer: AuditWriter;
  store: AuditStore;
}

/** What the audit object did since `watchD1`: storage commits, D1 batches (writes) and reads of audit_log. */
interface D1Watch {
  commits: number;
  batches: number;
  auditReads: number;
  /** While true, every batch fails as if D1 were down. */
  failing: boolean;
}

/**
 * Gives the object a writer whose D1 is watched (and can be made to fail); the rest is the object's
 * own. `retryOnFailure: false` stands for an object that stopped before its failed copy set the alarm.
 */
async function watchD1(stub: AuditStub, { retryOnFailure = true } = {}): Promise<D1Watch> {
  const watch: D1Watch = { commits: 0, batches: 0, auditReads: 0, failing: false };
  const real = env.DB;
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          watch.batches++;
          if (watch.failing) throw new Error('D1_ERROR: network connection lost');
          return target.batch(statements);
        };
      }
      if (prop === 'prepare') {
        return (query: string) => {
          if (/^\s*select\b/i.test(query) && query.includes('"audit_log"')) watch.auditReads++;
          return target.prepare(query);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  await runInDurableObject(stub, (instance, state) => {
    const o = instance as unknown as Internals;
    const commit = o.store.commit.bind(o.store); // one storage transaction each
    o.store.commit = (...args) => {
      watch.commits++;
      commit(...args);
    };
    o.writer = new AuditWriter(env as unknown as Env, o.store, makeDb(db), async (at) => {
      if (retryOnFailure) await state.storage.setAlarm(at);
    });
  });
  return watch;
}

function event(run: string, seq: number): AuditInput {
  return { actor: { type: 'system', id: 'run-engine' }, action: 'run.step.succeeded', resource: { type: 'run', id: run }, data: { seq, note: `event ${seq} ✓` }, source_key: `run:${run}:${seq}` };
}

const events = (run: string, from: number, n: number) => Array.from({ length: n }, (_, i) => event(run, from + i));

async function verify(t: TestTenant) {
  return json<{ ok: boolean; entries: number }>(api('/audit/verify', { key: t.keys.viewer }));
}

async function d1Rows(tenantId: string): Promise<{ n: number; keys: number }> {
  return (await env.DB.prepare('SELECT count(*) AS n, count(DISTINCT source_key) AS keys FROM audit_log WHERE tenant_id = ?').bind(tenantId).first<{ n: number; keys: number }>())!;
}

describe('audit log batching', () => {
  it('commits the appends of many concurrent callers in fewer storage commits and D1 writes than callers, and the log verifies', async () => {
    const t = await newTenant();
    const stub = auditObject(t.id);
    await stub.append(t.id, [event('run_first', 1)]); // the log exists
    const d1 = await watchD1(stub);

    const callers = 50;
    const seqs = await Promise.all(Array.from({ length: callers }, (_, c) => stub.append(t.id, events(`run_${c}`, 1, 3))));
    // The copy to D1 follows the answers: at least one is under way, and fewer than one per caller.
    expect(d1.batches).toBeGreaterThan(0);
    expect(d1.batches).toBeLessThan(callers);
    expect(d1.commits).toBeGreaterThan(0);
    expect(d1.commits).toBeLessThan(callers);
    await stub.settle();
    expect(d1.batches).toBeLessThanOrEqual(d1.commits);
    // Each caller has its own entries' seqs, in its input order.
    for (const mine of seqs) expect(mine).toEqual([mine[0]!, mine[0]! + 1, mine[0]! + 2]);
    expect(new Set(seqs.flat()).size).toBe(callers * 3);
    expect(await verify(t)).toEqual({ ok: true, entries: callers * 3 + 1 });
    expect(await d1Rows(t.id)).toEqual({ n: callers * 3 + 1, keys: callers * 3 + 1 });
  });

  it('drops duplicates across concurrent callers, across batches and within one append, without reading D1', async () => {
    const t = await newTenant();
    const stub = auditObject(t.id);
    await stub.append(t.id, [event('run_first', 1)]);
    const d1 = await watchD1(stub);

    // 20 callers, but only 5 runs: each run's events 1..4 arrive from 4 callers at once.
    const first = await Promise.all(Array.from({ length: 20 }, (_, c) => stub.append(t.id, events(`run_${c % 5}`, 1, 4))));
    expect(first.flat()).toHaveLength(20);
    expect(first.filter((s) => s.length > 0)).toHaveLength(5);
    // Again, later (other batches), with one new event each and a duplicate inside one append.
    const again = await Promise.all(Array.from({ length: 5 }, (_, r) => stub.append(t.id, [...events(`run_${r}`, 1, 5), event(`run_${r}`, 5)])));
    expect(again.map((s) => s.length)).toEqual([1, 1, 1, 1, 1]);
    expect(await stub.append(t.id, [event('run_first', 1)])).toEqual([]);

    expect(d1.auditReads).toBe(0);
    await stub.settle();
    expect(await d1Rows(t.id)).toEqual({ n: 26, keys: 26 });
    expect(await verify(t)).toEqual({ ok: true, entries: 26 });
  });

  it('answers appends while D1 is down, loses nothing, and the alarm copies the entries once D1 is back', async () => {
    const t = await newTenant();
    const stub = auditObject(t.id);
    await stub.append(t.id, [event('run_first', 1)]);
    await stub.settle();
    const d1 = await watchD1(stub);
    d1.failing = true;

    const seqs = await Promise.all(Array.from({ length: 10 }, (_, c) => stub.append(t.id, events(`run_${c}`, 1, 2))));
    expect(seqs.flat()).toHaveLength(20);
    await stub.settle(); // a failed copy: settle gives up rather than wait for D1
    expect((await d1Rows(t.id)).n).toBe(1);
    await runInDurableObject(stub, async (instance, state) => {
      expect((instance as unknown as Internals).store.outboxSize()).toBe(20);
      expect(await state.storage.getAlarm()).not.toBeNull();
    });

    d1.failing = false;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await d1Rows(t.id)).toEqual({ n: 21, keys: 21 });
    await runInDurableObject(stub, (instance) => expect((instance as unknown as Internals).store.outboxSize()).toBe(0));
    expect(await verify(t)).toEqual({ ok: true, entries: 21 });
  });

  it('finishes with the alarm a copy to D1 that the object never got to retry (it stopped first)', async () => {
    const t = await newTenant();
    const stub = auditObject(t.id);
    await stub.append(t.id, [event('run_first', 1)]);
    await stub.settle();
    const d1 = await watchD1(stub, { retryOnFailure: false });
    d1.failing = true;
    expect(await stub.append(t.id, events('run_a', 1, 3))).toEqual([2, 3, 4]);
    await stub.settle();
    expect((await d1Rows(t.id)).n).toBe(1);

    d1.failing = false;
    expect(await runDurableObjectAlarm(stub)).toBe(true); // armed by the batch itself
    expect(await d1Rows(t.id)).toEqual({ n: 4, keys: 4 });
  });

  it('still drops duplicates after an upgrade from a log whose storage has no source keys (in D1 or waiting in the outbox)', async () => {
    const t = await newTenant();
    const stub = auditObject(t.id);
    await stub.append(t.id, events('run_a', 1, 5));
    await stub.settle();
    const d1 = await watchD1(stub);
    d1.failing = true;
    await stub.append(t.id, events('run_a', 6, 2)); // committed, not yet in D1
    // The storage as the previous version left it: no source keys recorded.
    await runInDurableObject(stub, (instance, state) => {
      state.storage.sql.exec('DELETE FROM source_keys');
      state.storage.sql.exec('DELETE FROM source_keys_complete');
      (instance as unknown as Internals).writer.reset();
    });
    d1.failing = false;

    expect(await stub.append(t.id, events('run_a', 1, 8))).toEqual([8]);
    const reads = d1.auditReads;
    expect(reads).toBeGreaterThan(0); // the one backfill from D1
    expect(await stub.append(t.id, events('run_a', 1, 8))).toEqual([]);
    expect(d1.auditReads).toBe(reads);
    await stub.settle();
    expect(await d1Rows(t.id)).toEqual({ n: 8, keys: 8 });
    expect(await verify(t)).toEqual({ ok: true, entries: 8 });
  });

  it('drops duplicates of entries adopted from D1 (written before the object kept the log)', async () => {
    const t = await newTenant();
    const db = makeDb(env.DB);
    let prev = GENESIS_HASH;
    for (const [i, input] of events('run_old', 1, 4).entries()) {
      const e = await sealEntry({ id: 'k1', secret: HMAC_KEYS.k1! }, t.id, i + 1, prev, input);
      prev = e.hash;
      await db.insert(auditLog).values({ tenantId: t.id, seq: e.seq, ts: e.ts, actorType: e.actor.type, actorId: e.actor.id, action: e.action, resourceType: e.resource.type, resourceId: e.resource.id, data: JSON.stringify(e.data), prevHash: e.prev_hash, hash: e.hash, keyId: e.key_id, sourceKey: input.source_key });
    }
    const stub = auditObject(t.id);
    expect(await stub.append(t.id, events('run_old', 1, 5))).toEqual([5]);
    await stub.settle();
    expect(await d1Rows(t.id)).toEqual({ n: 5, keys: 5 });
    expect(await verify(t)).toEqual({ ok: true, entries: 5 });
  });
});
