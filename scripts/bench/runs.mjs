// Run phases of `npm run bench`: sequential runs (the per-step overhead, from the server's event
// timestamps) and runs started concurrently (throughput, and the audit entries they append).
import { auditSize, settledAuditSize } from './audit.mjs';
import { TERMINAL, now, peakOverlap, pool, progress, progressEnd, sleep } from './common.mjs';
import { mean, percentile, round, summary } from './stats.mjs';

const RUN_TIMEOUT_MS = 60_000;
// Polling competes with the runs for the same local D1 and CPU, so it is kept sparse; the measured
// numbers come from server timestamps, so the interval only affects how long the bench takes.
// Sequential runs: the first poll comes after ~80% of the previous run's duration, then every SEQ_POLL_MS.
const SEQ_POLL_MS = Number(process.env.BENCH_SEQ_POLL_MS ?? 50);
const CONC_POLL_MS = Number(process.env.BENCH_CONC_POLL_MS ?? 500);
/**
 * How often the audit log's size is read while concurrent runs write to it, then once they have all
 * ended (its resolution: each read takes the audit object's lock, so it is sparse until the end).
 */
const AUDIT_POLL_MS = { running: 500, ending: 100 };
/**
 * POST /runs in flight at once when starting a batch of runs: all of them by default, so "500
 * concurrent runs" means 500 started together. wrangler 4.86's dev proxy lost connections to the
 * Worker with ~50 or more requests in flight (cloudflare/workers-sdk#14641) and the bench sent 16 at a
 * time; wrangler 4.168's does not (500 at once, every run succeeded). BENCH_POST_CONCURRENCY caps it.
 */
const POST_CONCURRENCY = Number(process.env.BENCH_POST_CONCURRENCY ?? Infinity);

export async function waitTerminal(api, id, firstDelayMs, intervalMs, timeoutMs = RUN_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  await sleep(firstDelayMs);
  for (;;) {
    const run = await api('GET', `/runs/${id}`);
    if (TERMINAL.has(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} not finished after ${timeoutMs} ms (status ${run.status})`);
    await sleep(intervalMs);
  }
}

/** Per-step intervals of one finished run, from its persisted events (ISO timestamps, 1 ms). */
function stepIntervals(events, steps) {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const started = sorted.find((e) => e.type === 'run.started');
  if (!started) throw new Error('run has no run.started event');
  let prev = Date.parse(started.ts);
  const perStep = [];
  const prepare = []; // previous step's end → step.started (args, policy, state+event commit)
  const call = []; // step.started → step.succeeded (ledger record in DO storage, tool, commit)
  let stepStartedAt;
  for (const ev of sorted) {
    if (ev.type === 'step.started') {
      stepStartedAt = Date.parse(ev.ts);
      prepare.push(stepStartedAt - prev);
    } else if (ev.type === 'step.succeeded') {
      const t = Date.parse(ev.ts);
      perStep.push(t - prev);
      if (stepStartedAt !== undefined) call.push(t - stepStartedAt);
      prev = t;
      stepStartedAt = undefined;
    }
  }
  if (perStep.length !== steps) throw new Error(`expected ${steps} step.succeeded events, got ${perStep.length}`);
  return { perStep, prepare, call };
}

/** Runs of `steps` steps one after the other; `goal` = { p50_ms, p99_ms } of the per-step overhead. */
export async function sequentialPhase(api, runbook, { steps, warmup, runs, budgetMs, goal }) {
  const perStep = [];
  const prepare = [];
  const call = [];
  const runMeanPerStep = [];
  const runDurations = [];
  const failures = [];
  const client = { post: [], wait: [], events: [] };
  const budgetEnd = Date.now() + budgetMs;
  let lastDuration = 200;
  let stoppedEarly = false;
  let eventsPerRun;
  for (let i = 0; i < warmup + runs; i++) {
    if (i > warmup + 4 && Date.now() > budgetEnd) {
      stoppedEarly = true;
      break;
    }
    const warm = i < warmup;
    const t0 = now();
    const { id } = await api('POST', '/runs', { runbook, mode: 'execute' });
    const t1 = now();
    const run = await waitTerminal(api, id, Math.max(0, lastDuration * 0.8 - (t1 - t0)), SEQ_POLL_MS);
    const t2 = now();
    if (run.status !== 'succeeded') {
      failures.push({ id, status: run.status, reason: run.reason });
      continue;
    }
    lastDuration = Date.parse(run.ended_at) - Date.parse(run.created_at);
    if (warm) continue;
    const { items } = await api('GET', `/runs/${id}/events?after=0`);
    client.post.push(t1 - t0);
    client.wait.push(t2 - t1);
    client.events.push(now() - t2);
    eventsPerRun = items.length;
    const iv = stepIntervals(items, steps);
    perStep.push(...iv.perStep);
    prepare.push(...iv.prepare);
    call.push(...iv.call);
    if (run.started_at && run.ended_at) runMeanPerStep.push((Date.parse(run.ended_at) - Date.parse(run.started_at)) / steps);
    runDurations.push(Date.parse(run.ended_at) - Date.parse(run.created_at));
    progress(`sequential runs: ${runDurations.length}/${runs}`);
  }
  progressEnd();
  if (failures.length) throw new Error(`sequential runs did not succeed: ${JSON.stringify(failures.slice(0, 3))}`);
  const p50 = percentile(perStep, 50);
  const p99 = percentile(perStep, 99);
  const ms = (xs) => Object.fromEntries(Object.entries(summary(xs)).map(([k, v]) => [k, k === 'n' ? v : round(v, 2)]));
  return {
    runs: runDurations.length,
    ...(stoppedEarly ? { stopped_early: `time budget of ${budgetMs / 1000} s reached after ${runDurations.length} of ${runs} runs` } : {}),
    warmup_runs: warmup,
    steps_per_run: steps,
    events_per_run: eventsPerRun,
    per_step_ms: summary(perStep),
    mean_per_step_from_run_ms: {
      n: runMeanPerStep.length,
      mean: round(mean(runMeanPerStep), 3),
      p50: round(percentile(runMeanPerStep, 50), 3),
      min: runMeanPerStep.length ? round(Math.min(...runMeanPerStep), 3) : null,
      max: runMeanPerStep.length ? round(Math.max(...runMeanPerStep), 3) : null,
    },
    breakdown_ms: {
      prepare_and_commit_started: summary(prepare),
      ledger_call_and_commit_succeeded: summary(call),
    },
    run_duration_ms: summary(runDurations),
    client_side_ms: { post_runs: ms(client.post), poll_until_terminal: ms(client.wait), get_events: ms(client.events), poll_interval: SEQ_POLL_MS },
    goal: { metric: 'per_step_ms', max_p50_ms: goal.p50_ms, max_p99_ms: goal.p99_ms, p50_met: p50 <= goal.p50_ms, p99_met: p99 <= goal.p99_ms, met: p50 <= goal.p50_ms && p99 <= goal.p99_ms },
  };
}

/** Whether any run of `runbook` is still queued, planning or running in D1 (read in that order, see below). */
async function anyUnfinished(api, runbook, ids) {
  // A run only moves forward (queued → planning → running → done), so reading the states in that
  // order cannot miss one that is still unfinished after the last read.
  let count = 0;
  for (const status of ['queued', 'planning', 'running']) {
    const { items } = await api('GET', `/runs?runbook=${encodeURIComponent(runbook)}&status=${status}&limit=200`);
    count += items.filter((r) => ids.has(r.id)).length;
  }
  return count;
}

/**
 * Starts `n` runs of `runbook` at once (at most POST_CONCURRENCY requests in flight) and waits for
 * all of them. With `auditEventsPerRun`, also times the audit entries those runs append: the tree
 * size is read before the first POST and every AUDIT_POLL_MS after, until it has grown by n × that many.
 */
export async function concurrentPhase(api, runbook, { n, steps, auditEventsPerRun, timeoutMs = 300_000 }) {
  const auditBefore = auditEventsPerRun ? await settledAuditSize(api) : undefined;
  const t0 = Date.now();
  let posted = 0;
  const created = await pool(Array.from({ length: n }), POST_CONCURRENCY, async () => {
    const r = await api('POST', '/runs', { runbook, mode: 'execute' });
    progress(`concurrent runs started: ${++posted}/${n}`);
    return r;
  });
  const tPosted = Date.now();
  const ids = new Set(created.map((r) => r.id));
  const deadline = t0 + timeoutMs;

  // The audit log's growth, sampled alongside (its own loop, so it keeps its resolution).
  const audit = { samples: [], target: auditBefore === undefined ? undefined : auditBefore + n * auditEventsPerRun, deadline, interval: AUDIT_POLL_MS.running };
  const auditLoop = (async () => {
    if (audit.target === undefined) return;
    for (;;) {
      const size = await auditSize(api);
      audit.samples.push([Date.now(), size]);
      if (size >= audit.target || Date.now() > audit.deadline) return;
      await sleep(audit.interval);
    }
  })().catch((err) => (audit.error = err.message));

  for (;;) {
    const left = await anyUnfinished(api, runbook, ids);
    progress(`concurrent runs: ${left >= 200 ? '≥200' : left} of ${n} unfinished`);
    if (left <= Math.max(5, n / 10)) audit.interval = AUDIT_POLL_MS.ending; // the end is near
    if (left === 0) break;
    if (Date.now() > deadline) throw new Error(`concurrent runs still unfinished after ${timeoutMs / 1000} s (${left}${left >= 200 ? '+' : ''} of ${n})`);
    await sleep(CONC_POLL_MS);
  }
  const tObserved = Date.now();
  progressEnd();
  // Final views one by one (a list page cursor on created_at would skip runs created in the same ms).
  const rows = await pool([...ids], 16, (id) => api('GET', `/runs/${id}`));
  const notDone = rows.filter((r) => !TERMINAL.has(r.status));
  if (notDone.length) throw new Error(`${notDone.length} runs not finished though none is listed as unfinished (e.g. ${notDone[0].id}: ${notDone[0].status})`);
  // Entries are appended in the same flush that mirrors a run's end to D1, just after it: give the
  // audit log a little longer to catch up, then take what it has.
  audit.deadline = Math.min(audit.deadline, Date.now() + 30_000);
  await auditLoop;

  const failed = rows.filter((r) => r.status !== 'succeeded');
  const starts = rows.map((r) => Date.parse(r.created_at));
  const ends = rows.map((r) => Date.parse(r.ended_at));
  const lastEnd = Math.max(...ends);
  const wallMs = lastEnd - t0; // client clock and server clock are the same machine's
  const result = {
    runs: n,
    steps_per_run: steps,
    succeeded: n - failed.length,
    failed: failed.slice(0, 10).map((r) => ({ id: r.id, status: r.status, reason: r.reason })),
    post_concurrency: Math.min(POST_CONCURRENCY, n),
    peak_runs_in_flight: peakOverlap(rows.map((r, i) => [starts[i], ends[i]])),
    wall_clock_ms: wallMs,
    runs_per_s: round(n / (wallMs / 1000), 2),
    steps_per_s: round((n * steps) / (wallMs / 1000), 1),
    all_posts_answered_ms: tPosted - t0,
    observed_by_polling_ms: tObserved - t0,
    run_duration_ms: summary(rows.map((r, i) => ends[i] - starts[i])),
  };
  if (audit.target !== undefined) {
    const reached = audit.samples.find(([, size]) => size >= audit.target);
    const [at, size] = reached ?? audit.samples.at(-1) ?? [Date.now(), auditBefore];
    const entries = size - auditBefore;
    const windowMs = at - t0;
    result.audit_append = {
      entries,
      expected_entries: n * auditEventsPerRun,
      caught_up: Boolean(reached),
      window_ms: windowMs,
      entries_per_s: round(entries / (windowMs / 1000), 0),
      lag_after_last_run_ended_ms: at - lastEnd,
      poll_interval_ms: AUDIT_POLL_MS,
      ...(audit.error ? { error: audit.error } : {}),
    };
  }
  return result;
}
