// API latency of the main calls, measured at the client: each call is made `samples` times one
// after the other (after a few warm-up calls), on a keep-alive connection, and timed from sending
// the request to having parsed the answer.
import { benchRunbookYaml } from './runbook.mjs';
import { now, progress, progressEnd, sleep } from './common.mjs';
import { round, summary } from './stats.mjs';

const WARMUP = 3;

/**
 * `runId`: a finished run to read; `parkRunbook`: a runbook whose runs stop at an approval, so the
 * runs POST /runs starts leave nothing running behind them; sample counts per call.
 */
export async function apiLatencyPhase(api, { runId, parkRunbook, samples, writeSamples, verifySamples, runbookSamples }) {
  let seq = 0;
  const parked = [];
  const calls = [
    { name: 'GET /healthz', n: samples, call: () => api('GET', '/healthz') },
    { name: 'GET /tools', n: samples, call: () => api('GET', '/tools') },
    { name: 'GET /runs/{id}', n: samples, call: () => api('GET', `/runs/${runId}`), note: 'a finished 20-step run' },
    { name: 'GET /runs', n: samples, call: () => api('GET', '/runs'), note: 'first page, 50 runs' },
    {
      name: 'POST /tools/plan',
      n: samples,
      call: () => api('POST', '/tools/plan', { tool: 'pagerduty.add_note', args: { incident_id: 'Q2T2HSK3PVT1YR', content: 'bench' }, context: { environment: 'prod' } }),
      note: 'decision: require_approval',
    },
    { name: 'GET /audit?limit=50', n: samples, call: () => api('GET', '/audit?limit=50') },
    {
      name: 'POST /runbooks',
      n: runbookSamples,
      // A new name each time: validate the YAML, save version 1, append an audit entry.
      call: () => api('POST', '/runbooks', benchRunbookYaml(`bench-api-${process.pid}-${++seq}`, 20), 'application/yaml'),
      note: '20-step YAML, validated and saved; one audit entry',
    },
    {
      name: 'POST /runs',
      n: writeSamples,
      call: async () => parked.push((await api('POST', '/runs', { runbook: parkRunbook, mode: 'execute', context: { environment: 'prod' } })).id),
      note: 'the run stops at an approval; its first tick overlaps the next calls',
    },
  ];
  const results = {};
  for (const c of calls) {
    for (let i = 0; i < WARMUP; i++) await c.call();
    const times = [];
    for (let i = 0; i < c.n; i++) {
      const t0 = now();
      await c.call();
      times.push(now() - t0);
      if (i % 10 === 0) progress(`API latency: ${c.name} ${i + 1}/${c.n}`);
    }
    results[c.name] = { ...rounded(summary(times)), ...(c.note ? { note: c.note } : {}) };
  }
  progressEnd();
  // The parked runs' first ticks run behind POST /runs: let them settle before the next call is timed.
  await settle(api, parkRunbook);
  // Last, since it reads the whole log: its time grows with the log (GET /audit/verify is also timed
  // over the final log by the online-verify phase).
  const verifyTimes = [];
  let entries;
  for (let i = 0; i < verifySamples + 1; i++) {
    const t0 = now();
    const r = await api('GET', '/audit/verify');
    if (i > 0) verifyTimes.push(now() - t0);
    entries = r.entries;
  }
  results['GET /audit/verify'] = { ...rounded(summary(verifyTimes)), note: `over the whole log, ${entries} entries at the time` };
  return { warmup_per_call: WARMUP, calls: results };
}

/** Waits until no run of the runbook is still queued, planning or running (bounded). */
async function settle(api, runbook, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let busy = 0;
    for (const status of ['queued', 'planning', 'running']) busy += (await api('GET', `/runs?runbook=${runbook}&status=${status}&limit=1`)).items.length;
    if (busy === 0 || Date.now() > deadline) return;
    await sleep(100);
  }
}

function rounded(s) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round(v, 2)]));
}
