// `npm run bench` (`--quick` for a smaller sample): starts its own `wrangler dev` on a fresh,
// temporary state directory, seeds the demo tenant and measures
//   1. the per-step orchestration overhead of a 20-step simulated run (sequential runs), and
//   2. runs per second with 50 runs started concurrently,
// and, in-process, 3. the policy decision latency of decide() under policies/default.yaml.
// Prints a table and writes bench-results/bench.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, applyMigrations, bootstrap, buildWeb, ensureDevVars, newAdminKey, random, startDev, stopDev } from './lib.mjs';
import { benchRunbookYaml, checkAgainstCatalog } from './bench/runbook.mjs';
import { mean, percentile, round, summary } from './bench/stats.mjs';

const QUICK = process.argv.includes('--quick');
const CFG = QUICK
  ? { steps: 20, warmup: 1, sequential: 8, concurrent: 15, sequentialBudgetMs: 20_000 }
  : { steps: 20, warmup: 3, sequential: 30, concurrent: 50, sequentialBudgetMs: 60_000 };
const GOAL_P50_MS = 3;
const DECIDE_GOAL = { p50_us: 20, p99_us: 200 };
const DECIDE_SAMPLES = QUICK ? 50_000 : 200_000;

/** The offline audit verifier (scripts/bench/audit-verify.ts) on a generated, signed export. */
async function auditVerifyPhase() {
  const { build } = await import('esbuild');
  const out = path.join(ROOT, 'node_modules', '.cache', 'agentrunbook-bench', 'audit-verify.mjs');
  await build({ entryPoints: [path.join(ROOT, 'scripts', 'bench', 'audit-verify.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
  const { benchAuditVerify } = await import(`${out}?t=${Date.now()}`);
  const r = await benchAuditVerify(QUICK ? 50_000 : 200_000);
  return { ...r, goal: { min_entries_per_s: 150_000, met: r.ok && r.entries_per_s >= 150_000 } };
}

/** Builds scripts/bench/decide.ts (TypeScript, imports the Worker's policy code) and runs it here. */
async function decidePhase() {
  const { build } = await import('esbuild');
  const out = path.join(ROOT, 'node_modules', '.cache', 'agentrunbook-bench', 'decide.mjs');
  await build({ entryPoints: [path.join(ROOT, 'scripts', 'bench', 'decide.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
  const { benchDecide } = await import(`${out}?t=${Date.now()}`);
  const r = benchDecide(readFileSync(path.join(ROOT, 'policies', 'default.yaml'), 'utf8'), DECIDE_SAMPLES);
  const round3 = (x) => round(x, 3);
  return {
    policy: 'policies/default.yaml',
    ...r,
    p50_us: round3(r.p50_us),
    p99_us: round3(r.p99_us),
    mean_us: round3(r.mean_us),
    goal: { ...DECIDE_GOAL, met: r.p50_us <= DECIDE_GOAL.p50_us && r.p99_us <= DECIDE_GOAL.p99_us },
  };
}
const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'cancelled']);
const RUN_TIMEOUT_MS = 60_000;
// Polling competes with the runs for the same local D1 and CPU, so it is kept sparse; the measured
// numbers come from server timestamps, so the interval only affects how long the bench takes.
// Sequential runs: the first poll comes after ~80% of the previous run's duration, then every SEQ_POLL_MS.
const SEQ_POLL_MS = Number(process.env.BENCH_SEQ_POLL_MS ?? 50);
const CONC_POLL_MS = Number(process.env.BENCH_CONC_POLL_MS ?? 500);

let interrupted = 0; // signals received
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`\x1b[36m▸\x1b[0m ${msg}`);
/** A progress line rewritten in place on a terminal; silent otherwise (CI logs stay clean). */
const progress = (msg) => process.stdout.isTTY && process.stdout.write(`\r  ${msg}   `);
const progressEnd = () => process.stdout.isTTY && process.stdout.write('\n');

// ---------------------------------------------------------------------------------------------
// Setup helpers

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1' }, () => srv.close(() => resolve(true)));
  });
}

async function freePort(start) {
  for (let p = start; p < start + 50; p++) if (await portIsFree(p)) return p;
  throw new Error(`no free port in ${start}..${start + 49}`);
}

function wranglerVersion() {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'wrangler', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function makeClient(url, key) {
  const base = `${url}/api/v1`;
  return async function api(method, p, body, contentType = 'application/json') {
    const res = await fetch(base + p, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status}: ${typeof json === 'string' ? json : JSON.stringify(json)}`);
    return json;
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function waitTerminal(api, id, firstDelayMs, intervalMs) {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  await sleep(firstDelayMs);
  for (;;) {
    const run = await api('GET', `/runs/${id}`);
    if (TERMINAL.has(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} not finished after ${RUN_TIMEOUT_MS} ms (status ${run.status})`);
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

async function sequentialPhase(api, runbook) {
  const perStep = [];
  const prepare = [];
  const call = [];
  const runMeanPerStep = [];
  const runDurations = [];
  const failures = [];
  const client = { post: [], wait: [], events: [] };
  const total = CFG.warmup + CFG.sequential;
  const budgetEnd = Date.now() + CFG.sequentialBudgetMs;
  let lastDuration = 200;
  let stoppedEarly = false;
  for (let i = 0; i < total; i++) {
    if (i > CFG.warmup + 4 && Date.now() > budgetEnd) {
      stoppedEarly = true;
      break;
    }
    const warm = i < CFG.warmup;
    const t0 = Date.now();
    const { id } = await api('POST', '/runs', { runbook, mode: 'execute' });
    const t1 = Date.now();
    const run = await waitTerminal(api, id, Math.max(0, lastDuration * 0.8 - (t1 - t0)), SEQ_POLL_MS);
    const t2 = Date.now();
    if (run.status !== 'succeeded') {
      failures.push({ id, status: run.status, reason: run.reason });
      continue;
    }
    lastDuration = Date.parse(run.ended_at) - Date.parse(run.created_at);
    if (warm) continue;
    const { items } = await api('GET', `/runs/${id}/events?after=0`);
    client.post.push(t1 - t0);
    client.wait.push(t2 - t1);
    client.events.push(Date.now() - t2);
    const iv = stepIntervals(items, CFG.steps);
    perStep.push(...iv.perStep);
    prepare.push(...iv.prepare);
    call.push(...iv.call);
    if (run.started_at && run.ended_at) runMeanPerStep.push((Date.parse(run.ended_at) - Date.parse(run.started_at)) / CFG.steps);
    runDurations.push(Date.parse(run.ended_at) - Date.parse(run.created_at));
    progress(`sequential runs: ${runDurations.length}/${CFG.sequential}`);
  }
  progressEnd();
  if (failures.length) throw new Error(`sequential runs did not succeed: ${JSON.stringify(failures.slice(0, 3))}`);
  return {
    runs: runDurations.length,
    ...(stoppedEarly ? { stopped_early: `time budget of ${CFG.sequentialBudgetMs / 1000} s reached after ${runDurations.length} of ${CFG.sequential} runs` } : {}),
    warmup_runs: CFG.warmup,
    steps_per_run: CFG.steps,
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
    client_side_ms: { post_runs: summary(client.post), poll_until_terminal: summary(client.wait), get_events: summary(client.events), poll_interval: SEQ_POLL_MS },
    goal: { metric: 'per_step_ms.p50', max_ms: GOAL_P50_MS, met: percentile(perStep, 50) <= GOAL_P50_MS },
  };
}

async function concurrentPhase(api, runbook) {
  const n = CFG.concurrent;
  const t0 = Date.now();
  const created = await Promise.all(Array.from({ length: n }, () => api('POST', '/runs', { runbook, mode: 'execute' })));
  const tPosted = Date.now();
  const ids = new Set(created.map((r) => r.id));
  const deadline = t0 + RUN_TIMEOUT_MS * 2;
  let rows = [];
  for (;;) {
    const { items } = await api('GET', '/runs?limit=200');
    rows = items.filter((r) => ids.has(r.id));
    const done = rows.filter((r) => TERMINAL.has(r.status)).length;
    progress(`concurrent runs finished: ${done}/${n}`);
    if (rows.length === n && done === n) break;
    if (Date.now() > deadline) throw new Error(`only ${done}/${n} concurrent runs finished in time`);
    await sleep(CONC_POLL_MS);
  }
  const tObserved = Date.now();
  progressEnd();
  const failed = rows.filter((r) => r.status !== 'succeeded');
  const lastEnd = Math.max(...rows.map((r) => Date.parse(r.ended_at)));
  const durations = rows.map((r) => Date.parse(r.ended_at) - Date.parse(r.created_at));
  const wallMs = lastEnd - t0; // client clock and server clock are the same machine's
  return {
    runs: n,
    steps_per_run: CFG.steps,
    succeeded: n - failed.length,
    failed: failed.map((r) => ({ id: r.id, status: r.status, reason: r.reason })),
    wall_clock_ms: wallMs,
    runs_per_s: round(n / (wallMs / 1000), 2),
    steps_per_s: round((n * CFG.steps) / (wallMs / 1000), 1),
    all_posts_answered_ms: tPosted - t0,
    observed_by_polling_ms: tObserved - t0,
    run_duration_ms: summary(durations),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function auditRows(a) {
  return a ? [['Audit verifier (offline)', `${a.entries_per_s} entries/s (goal ≥ 150,000: ${a.goal.met ? 'met' : 'NOT met'}; ${a.entries} entries, HMAC chain + Merkle tree + Ed25519 checkpoints)`]] : [];
}

function decideRows(d) {
  return [
    ['Policy decision p50', `${d.p50_us} µs   (goal ≤ ${d.goal.p50_us} µs: ${d.goal.met ? 'met' : 'NOT met'}; Cedar publishes 4–11 µs, Rego 76–676 µs)`],
    ['Policy decision p99', `${d.p99_us} µs   (goal ≤ ${d.goal.p99_us} µs; mean ${d.mean_us} µs; ${d.samples} decisions over ${d.cases} role × tool × context cases, ${d.policy})`],
  ];
}

function printTable(result) {
  const s = result.sequential;
  const c = result.concurrent;
  const rows = [
    ['Machine', `${result.machine.cpu} × ${result.machine.cores} cores, Node ${result.machine.node}, wrangler ${result.machine.wrangler}`],
    ['Load average (1 min)', `${result.machine.loadavg_before[0]} before, ${result.machine.loadavg_after[0]} after  (other processes on the machine skew results)`],
    ['Sample', `${s.runs} sequential runs (+${s.warmup_runs} warm-up) × ${s.steps_per_run} steps; ${c.runs} concurrent runs${QUICK ? '  (--quick)' : ''}`],
    null,
    ['Per-step overhead p50', `${s.per_step_ms.p50} ms   (goal ≤ ${GOAL_P50_MS} ms: ${s.goal.met ? 'met' : 'NOT met'})`],
    ['Per-step overhead p99', `${s.per_step_ms.p99} ms   (p90 ${s.per_step_ms.p90}, max ${s.per_step_ms.max}, n=${s.per_step_ms.n})`],
    ['Per-step mean, (ended−started)/20', `${s.mean_per_step_from_run_ms.mean} ms   (per-run min ${s.mean_per_step_from_run_ms.min}, max ${s.mean_per_step_from_run_ms.max})`],
    ['  prepare + commit step.started', `p50 ${s.breakdown_ms.prepare_and_commit_started.p50} ms, mean ${s.breakdown_ms.prepare_and_commit_started.mean} ms`],
    ['  ledger + tool + commit succeeded', `p50 ${s.breakdown_ms.ledger_call_and_commit_succeeded.p50} ms, mean ${s.breakdown_ms.ledger_call_and_commit_succeeded.mean} ms`],
    ['Sequential run duration', `p50 ${s.run_duration_ms.p50} ms, p99 ${s.run_duration_ms.p99} ms (created → ended)`],
    null,
    [`Throughput, ${c.runs} concurrent runs`, `${c.runs_per_s} runs/s  (${c.steps_per_s} steps/s; ${c.wall_clock_ms} ms wall; ${c.succeeded}/${c.runs} succeeded)`],
    ['Concurrent run duration', `p50 ${c.run_duration_ms.p50} ms, p99 ${c.run_duration_ms.p99} ms (created → ended)`],
    null,
    ...decideRows(result.policy_decision),
    ...auditRows(result.audit_verify),
  ];
  const w = Math.max(...rows.filter(Boolean).map((r) => r[0].length));
  const line = '─'.repeat(w + 2) + '┼' + '─'.repeat(72);
  console.log('\n' + line);
  for (const r of rows) console.log(r ? ` ${r[0].padEnd(w)} │ ${r[1]}` : line);
  console.log(line);
  if (s.stopped_early) console.log(`  ! Sequential phase: ${s.stopped_early}.`);
  for (const note of result.notes) console.log(`  * ${note}`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const began = Date.now();
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  log(`Policy decisions: ${DECIDE_SAMPLES} calls of decide() under policies/default.yaml`);
  const policyDecision = await decidePhase();
  log('Audit verifier: a generated, signed export checked offline');
  const auditVerify = await auditVerifyPhase();
  if (process.argv.includes('--decide-only') || process.argv.includes('--in-process')) {
    const line = '─'.repeat(28) + '┼' + '─'.repeat(72);
    console.log('\n' + line);
    for (const r of [...decideRows(policyDecision), ...auditRows(auditVerify)]) console.log(` ${r[0].padEnd(26)} │ ${r[1]}`);
    console.log(line);
    return;
  }
  ensureDevVars();
  if (!existsSync(path.join(ROOT, 'web', 'build'))) {
    log('web/build is missing (wrangler serves it as [assets]): building the UI');
    buildWeb();
  }
  const persistTo = mkdtempSync(path.join(os.tmpdir(), 'agentrunbook-bench-'));
  let dev;
  let stderrTail = '';
  const cleanup = async () => {
    if (dev) {
      const d = dev;
      dev = undefined;
      const killer = setTimeout(() => stopDev(d.child, 'SIGKILL'), 5_000);
      await stopDev(d.child);
      clearTimeout(killer);
    }
    rmSync(persistTo, { recursive: true, force: true });
  };
  // `wrangler dev` runs in its own process group, so Ctrl-C does not reach it: stop it here. While it
  // is still starting, startDev() has not handed out the child yet; stop it as soon as it has.
  let starting = false;
  const onSignal = (sig) => {
    if (interrupted++) process.exit(130);
    if (starting && !dev) {
      console.error('\n  Interrupted: stopping wrangler dev as soon as it has started (Ctrl-C again to leave it running).');
      return;
    }
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`Applying D1 migrations in ${persistTo}`);
    applyMigrations(persistTo);
    const port = await freePort(Number(process.env.BENCH_PORT ?? 8799));
    const token = random(24);
    log(`Starting wrangler dev on 127.0.0.1:${port}`);
    starting = true;
    dev = await startDev({ port, persistTo, bootstrapToken: token, quiet: true });
    starting = false;
    if (interrupted) throw new Error('interrupted');
    dev.child.stderr?.on('data', (d) => (stderrTail = (stderrTail + d).slice(-4000)));
    const adminKey = newAdminKey();
    await bootstrap(dev.url, token, adminKey, false);
    const api = makeClient(dev.url, adminKey);

    const problems = checkAgainstCatalog(await api('GET', '/tools'));
    if (problems.length) throw new Error(`benchmark runbook does not match the tool catalog:\n  ${problems.join('\n  ')}`);
    const name = `bench-${CFG.steps}-steps`;
    await api('POST', '/runbooks', benchRunbookYaml(name, CFG.steps), 'application/yaml');

    log(`Sequential: ${CFG.warmup} warm-up + ${CFG.sequential} runs of ${CFG.steps} steps`);
    const sequential = await sequentialPhase(api, name);
    log(`Concurrent: ${CFG.concurrent} runs started at once`);
    const concurrent = await concurrentPhase(api, name);

    const result = {
      benchmark: 'agentrunbook',
      date: new Date().toISOString(),
      quick: QUICK,
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, wrangler: wranglerVersion(), loadavg_before: loadBefore, loadavg_after: os.loadavg().map((x) => round(x, 2)) },
      sequential,
      concurrent,
      policy_decision: policyDecision,
      audit_verify: auditVerify,
      notes: [
        'Timestamps are ISO strings with 1 ms resolution (and workerd only advances the clock on I/O), so per-step values are whole milliseconds; the (ended_at − started_at)/20 mean is the finer-grained figure.',
        'Per-step overhead = time from the previous step.succeeded (or run.started) to this step.succeeded, from GET /runs/{id}/events.',
        'The tools are simulated and do no network I/O: this is the platform\'s own overhead (state, events and the tool-ledger row persisted in DO storage, the policy decision, template resolution). The copy to D1 (run mirror, ledger, audit log) happens once per alarm and is inside the run duration, not the per-step figure.',
        'Breakdown: "prepare" = previous step end → step.started (conditions, template resolution, args hash, policy decision, DO commit); "ledger + tool + commit" = step.started → step.succeeded (ledger row in DO storage, simulated tool, DO commit).',
        'Concurrent throughput: wall clock = first POST /runs → the last run\'s ended_at (client and server share the machine\'s clock); runs/s = runs / wall clock.',
        'Policy decision: decide() called in-process under Node (the same code the Worker runs), CEL plans compiled once and cached; each sample is one full decision (role allowlist, runbook approval, every rule, blast-radius and budget inputs).',
        'Local `wrangler dev` (workerd with local SQLite for D1 and DO storage) on a shared machine, not production Cloudflare; results move with the machine\'s load (see loadavg). The client polls sparingly.',
      ],
      total_bench_s: round((Date.now() - began) / 1000, 1),
    };
    printTable(result);
    const outDir = path.join(ROOT, 'bench-results');
    mkdirSync(outDir, { recursive: true });
    const outFile = path.join(outDir, 'bench.json');
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
    console.log(`\n  JSON: ${path.relative(process.cwd(), outFile) || outFile}   (total ${result.total_bench_s} s)\n`);
  } catch (err) {
    if (stderrTail.trim()) console.error(`wrangler dev stderr (tail):\n${stderrTail}`);
    throw err;
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  if (interrupted || err?.message === 'interrupted') {
    console.error('bench interrupted; wrangler dev stopped and its temporary state removed.');
    process.exitCode = 130;
    return;
  }
  console.error(`\nbench failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
});
