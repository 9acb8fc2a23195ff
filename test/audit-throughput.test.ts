import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../worker/audit/chain';
import { sampleInput } from '../worker/audit/test-helpers';
import { api, json, newTenant } from './helpers';

/**
 * The audit log's append rate under fan-in, loaded the way `npm run bench`'s 500 concurrent runs
 * load it but without the platform around it: K callers at once, each appending the events of one
 * 5-step run as a run's outbox does (run.created first, then the 14 events of its first tick as one
 * batch, with source keys), straight to the tenant's audit object (group commit, D1 copy behind).
 * The rate is printed, not asserted (tests assert behaviour, not speed): `npm run bench` runs this
 * file and reads the `audit-append-bench` line (scripts/bench/audit-append.mjs). What is asserted
 * is that every caller got its own seqs and the log verifies.
 */
const CALLERS = 500;
const BATCHES = [1, 14];
const EVENTS = BATCHES.reduce((a, b) => a + b, 0);
const ROUNDS = 3;
/** Callers of an untimed first round: the writer's code is compiled (JIT) before a round is timed. */
const WARM_UP_CALLERS = 100;

const auditObject = (tenantId: string) => env.AUDIT.get(env.AUDIT.idFromName(tenantId));

function runEvents(run: number): AuditInput[] {
  return Array.from({ length: EVENTS }, (_, i) => ({ ...sampleInput(run * EVENTS + i), source_key: `run:run_${run}:${i + 1}` }));
}

/** One run's appends, in its outbox's order: each batch after the previous one is committed. */
async function appendRun(stub: ReturnType<typeof auditObject>, tenantId: string, run: number): Promise<number[]> {
  const events = runEvents(run);
  const seqs: number[] = [];
  let at = 0;
  for (const n of BATCHES) {
    seqs.push(...(await stub.append(tenantId, events.slice(at, at + n))));
    at += n;
  }
  return seqs;
}

describe('audit append throughput', () => {
  it(`appends the events of ${CALLERS} concurrent runs, ${BATCHES.join(' + ')} per run (entries/s printed)`, async () => {
    const warm = await newTenant();
    await Promise.all(Array.from({ length: WARM_UP_CALLERS }, (_, run) => appendRun(auditObject(warm.id), warm.id, run)));
    const rates: number[] = [];
    const toD1: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t = await newTenant();
      const stub = auditObject(t.id);
      await stub.append(t.id, [sampleInput(0)]); // the log exists (adopted, keys recorded): not timed
      const t0 = performance.now();
      const seqs = await Promise.all(Array.from({ length: CALLERS }, (_, run) => appendRun(stub, t.id, run)));
      const committed = performance.now() - t0;
      const verify = await json<{ ok: boolean; entries: number }>(api('/audit/verify', { key: t.keys.viewer }));
      const copied = performance.now() - t0;
      expect(new Set(seqs.flat()).size).toBe(CALLERS * EVENTS);
      expect(verify).toEqual({ ok: true, entries: CALLERS * EVENTS + 1 });
      const rate = (CALLERS * EVENTS) / (committed / 1000);
      rates.push(rate);
      toD1.push((CALLERS * EVENTS) / (copied / 1000));
      console.log(`audit append round ${round + 1}: ${CALLERS * EVENTS} entries from ${CALLERS} callers committed in ${committed.toFixed(0)} ms = ${rate.toFixed(0)} entries/s; in D1 and verified after ${copied.toFixed(0)} ms`);
    }
    const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const median = middle(rates);
    console.log(`audit append median: ${median.toFixed(0)} entries/s`);
    console.log(`audit-append-bench ${JSON.stringify({ callers: CALLERS, batches: BATCHES, entries_per_round: CALLERS * EVENTS, rounds: rates.map(Math.round), median_entries_per_s: Math.round(median), median_to_d1_verified_per_s: Math.round(middle(toD1)) })}`);
  }, 120_000);
});
