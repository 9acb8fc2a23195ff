// Audit phases of `npm run bench` against the running platform: the log's size (for the append
// rate the run phases measure) and the online verification, GET /audit/verify, over the whole log.
import { now, sleep } from './common.mjs';
import { percentile, round, summary } from './stats.mjs';

/** Entries in the tenant's audit log: the size of its Merkle tree, from the audit object itself. */
export async function auditSize(api) {
  const head = await api('GET', '/audit/checkpoints?limit=1');
  return head.tree_size;
}

/** The size once it has stopped moving (appends of runs that just ended may still be in flight). */
export async function settledAuditSize(api, quietMs = 300, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let size = await auditSize(api);
  for (;;) {
    await sleep(quietMs);
    const again = await auditSize(api);
    if (again === size || Date.now() > deadline) return again;
    size = again;
  }
}

/**
 * GET /audit/verify, `calls` times one after the other, over the tenant's whole log: every entry
 * read from D1 in pages of 500, its HMAC chain link checked and its leaf hash compared with the
 * audit object's Merkle tree. The rate is entries / the median call's duration at the client.
 */
export async function onlineVerifyPhase(api, { calls }) {
  const times = [];
  let last;
  await api('GET', '/audit/verify'); // warm-up (isolate, D1 page cache)
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    last = await api('GET', '/audit/verify');
    times.push(now() - t0);
    if (!last.ok) break;
  }
  const p50 = percentile(times, 50);
  return {
    ok: last.ok,
    ...(last.ok ? {} : { first_bad_seq: last.first_bad_seq, reason: last.reason }),
    entries: last.entries,
    calls: times.length,
    call_ms: Object.fromEntries(Object.entries(summary(times)).map(([k, v]) => [k, k === 'n' ? v : round(v, 1)])),
    entries_per_s: round(last.entries / (p50 / 1000), 0),
  };
}
