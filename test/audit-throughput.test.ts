import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../worker/audit/chain';
import { sampleInput } from '../worker/audit/test-helpers';
import { api, json, newTenant } from './helpers';

/**
 * The audit log's append rate under fan-in, measured the way `npm run bench` loads it (many runs,
 * each appending its events as one batch per flush) but without the platform around it: K callers
 * at once, each appending m run events with source keys, straight to the tenant's audit object.
 * The rate is printed, not asserted (tests assert behaviour, not speed); what is asserted is that
 * every caller got its own seqs and the log verifies.
 */
const CALLERS = 500;
const EVENTS = 4;
const ROUNDS = 3;

const auditObject = (tenantId: string) => env.AUDIT.get(env.AUDIT.idFromName(tenantId));

function runEvents(run: number): AuditInput[] {
  return Array.from({ length: EVENTS }, (_, i) => ({ ...sampleInput(run * EVENTS + i), source_key: `run:run_${run}:${i + 1}` }));
}

describe('audit append throughput', () => {
  it(`appends ${CALLERS} concurrent batches of ${EVENTS} run events (entries/s printed)`, async () => {
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t = await newTenant();
      const stub = auditObject(t.id);
      await stub.append(t.id, [sampleInput(0)]); // the log exists (adopted, keys recorded): not timed
      const t0 = performance.now();
      const seqs = await Promise.all(Array.from({ length: CALLERS }, (_, run) => stub.append(t.id, runEvents(run))));
      const committed = performance.now() - t0;
      const verify = await json<{ ok: boolean; entries: number }>(api('/audit/verify', { key: t.keys.viewer }));
      const copied = performance.now() - t0;
      expect(new Set(seqs.flat()).size).toBe(CALLERS * EVENTS);
      expect(verify).toEqual({ ok: true, entries: CALLERS * EVENTS + 1 });
      const rate = (CALLERS * EVENTS) / (committed / 1000);
      rates.push(rate);
      console.log(`audit append round ${round + 1}: ${CALLERS * EVENTS} entries from ${CALLERS} callers committed in ${committed.toFixed(0)} ms = ${rate.toFixed(0)} entries/s; in D1 and verified after ${copied.toFixed(0)} ms`);
    }
    rates.sort((a, b) => a - b);
    console.log(`audit append median: ${rates[Math.floor(rates.length / 2)]!.toFixed(0)} entries/s`);
  }, 120_000);
});
