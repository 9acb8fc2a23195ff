// The bench's one table: printed to the terminal and written as Markdown (bench-results/bench.md)
// for the README to quote. Rows are [figure, value, goal?]; null separates groups.
const met = (ok) => (ok ? 'met' : 'NOT met');
const mb = (x) => (x === null || x === undefined ? 'n/a' : `${x} MB`);

export function decideRows(d) {
  return [
    ['Policy decision, decide() p50 / p99', `${d.p50_us} µs / ${d.p99_us} µs  (mean ${d.mean_us} µs; ${d.samples} decisions, ${d.cases} cases, in-process)`, `p50 ≤ ${d.goal.p50_us} µs, p99 ≤ ${d.goal.p99_us} µs: ${met(d.goal.met)}`],
  ];
}

export function offlineVerifyRows(a) {
  return a ? [['Audit verify, offline (npm run audit:verify)', `${a.entries_per_s.toLocaleString('en-US')} entries/s  (${a.entries} entries: HMAC chain, Merkle tree, Ed25519 checkpoints)`, `≥ ${a.goal.min_entries_per_s.toLocaleString('en-US')}/s: ${met(a.goal.met)}`]] : [];
}

function throughputRow(c, runsGoal) {
  return [
    `Throughput, ${c.runs} concurrent runs × ${c.steps_per_run} steps`,
    `${c.runs_per_s} runs/s, ${c.steps_per_s} steps/s  (${(c.wall_clock_ms / 1000).toFixed(1)} s; POSTs ${c.post_concurrency} at a time, up to ${c.peak_runs_in_flight} runs in flight; run p50 ${c.run_duration_ms.p50} ms)`,
    `all succeeded: ${c.succeeded === c.runs ? 'met' : `NOT met (${c.succeeded}/${c.runs})`}${runsGoal ? `; ${runsGoal.goal} runs/s: ${met(runsGoal.met)}` : ''}`,
  ];
}

function apiRows(a) {
  return Object.entries(a.calls).map(([name, s]) => [`API ${name}`, `p50 ${s.p50} ms, p99 ${s.p99} ms  (n=${s.n}${s.note ? `; ${s.note}` : ''})`]);
}

/** Warnings that make the figures unreliable, printed under the table and kept in the JSON. */
export function warnings(r) {
  const out = [];
  const restarts = r.memory?.runtime_restarts ?? [];
  if (restarts.length) {
    out.push(`wrangler dev restarted the Worker ${restarts.length} time(s) during the bench (it rebuilds when a source file changes), in: ${[...new Set(restarts.map((x) => x.phase))].join(', ')}. Figures of those phases include a cold start; run the bench with no one editing the tree.`);
  }
  if (r.sequential?.stopped_early) out.push(`Sequential phase: ${r.sequential.stopped_early}.`);
  if (r.audit?.append && !r.audit.append.caught_up) out.push(`The audit log had not caught up with the runs' events 30 s after they ended (${r.audit.append.entries} of ${r.audit.append.expected_entries} entries).`);
  return out;
}

export function tableRows(r) {
  const s = r.sequential;
  const m = r.memory;
  const w = r.live_view;
  const app = r.audit.append;
  const on = r.audit.verify_online;
  const rows = [
    ['Machine', `${r.machine.cpu} × ${r.machine.cores} cores, ${r.machine.total_mem_gb} GB, Node ${r.machine.node}, wrangler ${r.machine.wrangler}`],
    ['Load average (1 min)', `${r.machine.loadavg_before[0]} before, ${r.machine.loadavg_after[0]} after${r.quick ? '  (--quick sample)' : ''}`],
    null,
    ['Per-step overhead p50 / p99', `${s.per_step_ms.p50} ms / ${s.per_step_ms.p99} ms  (p90 ${s.per_step_ms.p90}, max ${s.per_step_ms.max}; ${s.runs} sequential runs × ${s.steps_per_run} steps)`, `p50 ≤ ${s.goal.max_p50_ms} ms: ${met(s.goal.p50_met)}; p99 ≤ ${s.goal.max_p99_ms} ms: ${met(s.goal.p99_met)}`],
    [`Per-step mean, (ended − started) / ${s.steps_per_run}`, `${s.mean_per_step_from_run_ms.mean} ms  (prepare p50 ${s.breakdown_ms.prepare_and_commit_started.p50} ms, call + commit p50 ${s.breakdown_ms.ledger_call_and_commit_succeeded.p50} ms)`],
    [`Whole ${s.steps_per_run}-step run, created → ended`, `p50 ${s.run_duration_ms.p50} ms, p99 ${s.run_duration_ms.p99} ms  (incl. D1 mirror and audit append)`],
    null,
    ...r.throughput.map((c, i) => throughputRow(c, i === r.throughput.length - 1 ? r.goals?.runs_per_s_500_concurrent : undefined)),
    null,
    ...apiRows(r.api_latency),
    null,
    ...decideRows(r.policy_decision),
    null,
    r.audit.writer ? ['Audit append, the writer alone (500 runs\' events at once)', `${r.audit.writer.median_entries_per_s} entries/s committed, median of ${r.audit.writer.rounds.join(' / ')}  (${r.audit.writer.entries_per_round} entries a round, ${r.audit.writer.batches.join(' + ')} per run; in D1 and verified: ${r.audit.writer.median_to_d1_verified_per_s}/s)`, `≥ ${r.audit.writer.goal.min_entries_per_s}/s: ${met(r.audit.writer.goal.met)}`] : undefined,
    app ? ['Audit append (run events, single writer)', `${app.entries_per_s} entries/s  (${app.entries} entries in ${(app.window_ms / 1000).toFixed(1)} s under ${r.throughput.at(-1).runs} concurrent runs${app.caught_up ? '' : '; did NOT catch up'}; lag after last run ${app.lag_after_last_run_ended_ms} ms)`] : undefined,
    ['Audit verify, online (GET /audit/verify)', `${on.entries_per_s} entries/s  (${on.entries} entries, p50 ${on.call_ms.p50} ms per call${on.ok ? '' : `; NOT ok: ${on.reason}`})`],
    ...offlineVerifyRows(r.audit.verify_offline),
    null,
    ['WebSocket event latency p50 / p99', `${w.event_latency_ms.p50} ms / ${w.event_latency_ms.p99} ms  (max ${w.event_latency_ms.max}; ${w.events} events, server ts → client${w.seq_gaps ? `; ${w.seq_gaps} seq gaps` : ''})`],
    ['Approve → step.approved on the socket', `p50 ${w.approve_to_event_ms.p50} ms, p99 ${w.approve_to_event_ms.p99} ms  (HTTP answer p50 ${w.approve_http_ms.p50} ms; n=${w.approve_to_event_ms.n})`],
    null,
    m.available
      ? ['Memory, workerd running the Worker (RSS)', `idle ${mb(m.runtime_workerd_mb.idle_after_start)}, peak ${mb(m.runtime_workerd_mb.peak)} (${m.runtime_workerd_mb.peak_phase}), after the bench ${mb(m.runtime_workerd_mb.idle_at_end)}`]
      : ['Memory', m.note],
    m.available
      ? ['Memory, dev proxy / all of wrangler dev / client', `peak ${mb(m.proxy_workerd_mb?.peak)} wrangler\'s proxy workerd / ${mb(m.wrangler_dev_group_mb.peak)} whole group (both workerd, wrangler\'s Node, esbuild) / bench client ${mb(m.client_mb.high_water_mark)}`]
      : undefined,
  ];
  return rows.filter((x) => x !== undefined);
}

export function printTable(rows, notes = [], warned = []) {
  const w = Math.max(...rows.filter(Boolean).map((r) => r[0].length));
  const line = '─'.repeat(w + 2) + '┼' + '─'.repeat(72);
  console.log('\n' + line);
  for (const r of rows) console.log(r ? ` ${r[0].padEnd(w)} │ ${r[1]}${r[2] ? `   [goal ${r[2]}]` : ''}` : line);
  console.log(line);
  for (const note of notes) console.log(`  * ${note}`);
  for (const w of warned) console.log(`  \x1b[33m! ${w}\x1b[0m`);
}

export function markdownTable(rows, heading) {
  const esc = (x) => String(x ?? '').replaceAll('|', '\\|');
  const out = [heading, '', '| figure | value | goal |', '| --- | --- | --- |'];
  for (const r of rows) if (r) out.push(`| ${esc(r[0])} | ${esc(r[1])} | ${esc(r[2])} |`);
  return out.join('\n') + '\n';
}
