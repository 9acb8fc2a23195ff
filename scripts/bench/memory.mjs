// Resident memory during `npm run bench`, sampled every ~100 ms from /proc (Linux):
//   - the platform: every process in `wrangler dev`'s process group (startDev makes it a group
//     leader): the workerd that runs the Worker and its Durable Objects, the workerd of wrangler's
//     proxy in front of it (the one listening on the dev port), and the group in total (wrangler's
//     Node process, esbuild…);
//   - the bench client itself (this Node process).
// Each sample is tagged with the phase running at the time, so peaks can be told apart.
import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { sleep } from './common.mjs';
import { round } from './stats.mjs';

const MB = 1024 * 1024;

function pageSize() {
  try {
    return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
  } catch {
    return 4096;
  }
}

/** comm, pgrp and rss (pages) from /proc/<pid>/stat; undefined once the process is gone. */
async function procStat(pid) {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' '); // rest[0] is field 3 (state)
    return { comm, pgrp: Number(rest[2]), rssPages: Number(rest[21]) };
  } catch {
    return undefined;
  }
}

export class RssSampler {
  constructor(intervalMs = 100) {
    this.intervalMs = intervalMs;
    this.available = existsSync('/proc/self/stat');
    this.page = this.available ? pageSize() : 4096;
    this.pgid = undefined;
    this.pids = new Map(); // pid → { comm, alive, peak (bytes, sampled), hwm (bytes, the kernel's VmHWM) }
    this.lastScan = 0;
    this.phase = 'start';
    this.samples = []; // { t, phase, workerd, group, client } (bytes; server ones undefined before attach)
    this.stopped = false;
    this.loop = undefined;
    this.restarts = []; // { phase, at } of every restart of the runtime workerd
  }

  start() {
    this.loop = this.run();
    return this;
  }

  /** Samples the process group `pgid` (wrangler dev's, serving on `port`) from now on. */
  attach(pgid, port) {
    this.pgid = pgid;
    this.port = port;
    this.lastScan = 0;
  }

  /** 'runtime' (the Worker's workerd), 'proxy' (wrangler's, on the dev port), or the command name. */
  async role(pid, comm) {
    if (!comm.startsWith('workerd')) return comm;
    try {
      const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      return args.some((a) => a === `--socket-addr=entry=127.0.0.1:${this.port}`) ? 'proxy' : 'runtime';
    } catch {
      return 'runtime';
    }
  }

  setPhase(name) {
    this.phase = name;
  }

  /** Notes the client's high-water mark now (after the in-process phases, which block sampling). */
  markClientHighWater() {
    this.inProcessHwm = round((process.resourceUsage().maxRSS * 1024) / MB, 1);
  }

  async stop() {
    this.stopped = true;
    await this.loop;
  }

  async scan() {
    this.lastScan = Date.now();
    let names = [];
    try {
      names = await readdir('/proc');
    } catch {
      return;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name) || this.pids.has(Number(name))) continue;
      const st = await procStat(name);
      if (!st || st.pgrp !== this.pgid) continue;
      const role = await this.role(name, st.comm);
      this.pids.set(Number(name), { comm: st.comm, role, alive: true, peak: 0, hwm: 0 });
      // A second runtime means wrangler restarted the Worker (it rebuilds when a source file changes).
      if (role === 'runtime' && [...this.pids.values()].some((p) => p.role === 'runtime' && p !== this.pids.get(Number(name)))) {
        this.restarts.push({ phase: this.phase, at: new Date().toISOString() });
      }
    }
  }

  async sampleOnce() {
    let runtime;
    let workerd;
    let group;
    if (this.available && this.pgid !== undefined) {
      if (Date.now() - this.lastScan > 1000) await this.scan();
      runtime = 0;
      workerd = 0;
      group = 0;
      for (const [pid, info] of this.pids) {
        if (!info.alive) continue;
        const st = await procStat(pid);
        if (!st || st.pgrp !== this.pgid) {
          info.alive = false;
          continue;
        }
        const bytes = st.rssPages * this.page;
        info.peak = Math.max(info.peak, bytes);
        group += bytes;
        if (info.role === 'runtime') runtime += bytes;
        if (info.role === 'runtime' || info.role === 'proxy') workerd += bytes;
      }
    }
    this.samples.push({ t: Date.now(), phase: this.phase, runtime, workerd, group, client: process.memoryUsage.rss() });
  }

  async run() {
    while (!this.stopped) {
      const t0 = Date.now();
      await this.sampleOnce();
      await sleep(Math.max(5, this.intervalMs - (Date.now() - t0)));
    }
  }

  /**
   * The kernel's high-water mark (VmHWM) of every live process of the group: the true peak, however
   * short; call it before the group is stopped.
   */
  async readHighWaterMarks() {
    for (const [pid, info] of this.pids) {
      if (!info.alive) continue;
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
        if (m) info.hwm = Number(m[1]) * 1024;
      } catch {
        info.alive = false;
      }
    }
  }

  /** Mean of the samples of a phase (e.g. an idle window), in MB. */
  meanOf(phase, key) {
    const xs = this.samples.filter((s) => s.phase === phase && s[key] !== undefined).map((s) => s[key]);
    return xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length / MB, 1) : null;
  }

  peakOf(key, filter = () => true) {
    let best;
    for (const s of this.samples) if (s[key] !== undefined && filter(s) && (!best || s[key] > best[key])) best = s;
    return best ? { mb: round(best[key] / MB, 1), phase: best.phase } : { mb: null, phase: null };
  }

  byPhase(key) {
    const out = {};
    for (const s of this.samples) if (s[key] !== undefined) out[s.phase] = Math.max(out[s.phase] ?? 0, s[key]);
    return Object.fromEntries(Object.entries(out).map(([p, v]) => [p, round(v / MB, 1)]));
  }

  /** `idle` and `idleEnd` name the phases sampled while the platform was idle. */
  summary({ idle = 'idle', idleEnd = 'idle-end', inProcess = 'in-process' } = {}) {
    if (!this.available) return { available: false, note: '/proc is not available: memory was not sampled' };
    const runtimePeak = this.peakOf('runtime');
    const workerdPeak = this.peakOf('workerd');
    const groupPeak = this.peakOf('group');
    const procs = [...this.pids.entries()];
    // Summed over the processes alive at the end: each one's own peak (not necessarily simultaneous).
    const hwm = (pred) => round(procs.filter(([, p]) => pred(p)).reduce((n, [, p]) => n + p.hwm, 0) / MB, 1);
    // The client's own high-water mark covers the in-process phases, which block the sampler.
    const clientHwm = round((process.resourceUsage().maxRSS * 1024) / MB, 1);
    return {
      available: true,
      sample_interval_ms: this.intervalMs,
      samples: this.samples.length,
      runtime_restarts: this.restarts,
      runtime_workerd_mb: {
        idle_after_start: this.meanOf(idle, 'runtime'),
        peak: Math.max(runtimePeak.mb ?? 0, hwm((p) => p.role === 'runtime' && p.alive)),
        peak_phase: runtimePeak.phase,
        peak_sampled: runtimePeak.mb,
        high_water_mark: hwm((p) => p.role === 'runtime' && p.alive),
        idle_at_end: this.meanOf(idleEnd, 'runtime'),
        peak_by_phase: this.byPhase('runtime'),
      },
      workerd_incl_proxy_mb: {
        idle_after_start: this.meanOf(idle, 'workerd'),
        peak_sampled: workerdPeak.mb,
        peak_phase: workerdPeak.phase,
        high_water_marks_summed: hwm((p) => (p.role === 'runtime' || p.role === 'proxy') && p.alive),
        idle_at_end: this.meanOf(idleEnd, 'workerd'),
      },
      proxy_workerd_mb: {
        idle_after_start: round((this.meanOf(idle, 'workerd') ?? 0) - (this.meanOf(idle, 'runtime') ?? 0), 1),
        peak: Math.max(0, ...procs.filter(([, p]) => p.role === 'proxy').map(([, p]) => round(Math.max(p.peak, p.hwm) / MB, 1))),
      },
      wrangler_dev_group_mb: { idle_after_start: this.meanOf(idle, 'group'), peak: groupPeak.mb, peak_phase: groupPeak.phase, idle_at_end: this.meanOf(idleEnd, 'group') },
      processes: procs.map(([pid, p]) => ({ pid, comm: p.comm, role: p.role, peak_sampled_mb: round(p.peak / MB, 1), high_water_mark_mb: round(p.hwm / MB, 1) })),
      client_mb: {
        high_water_mark: clientHwm,
        peak_sampled_while_driving_the_platform: this.peakOf('client', (s) => s.phase !== inProcess && s.phase !== 'start').mb,
        after_in_process_phases: this.inProcessHwm ?? null,
      },
    };
  }
}
