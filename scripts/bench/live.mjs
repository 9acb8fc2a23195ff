// WebSocket event latency of the live view (GET /runs/{id}/live): runs whose every step waits for
// an approval; the bench approves each step over HTTP (as a second, SRE key: the policy wants an
// approver other than the requester) and times
//   - every event from its server timestamp (`ts`, 1 ms) to its arrival at the client, and
//   - the approve call from the moment it is sent to the arrival of its step.approved event.
import WebSocket from 'ws';
import { TERMINAL, now, progress, progressEnd, sleep } from './common.mjs';
import { round, summary } from './stats.mjs';

const EVENT_TIMEOUT_MS = 20_000;
const MAX_RECONNECTS = 5;

/**
 * The run's live view over one socket at a time: when the socket drops (e.g. wrangler restarted the
 * Worker), it reconnects with `?after=<last seq>`, as the web app does. Events the server replays
 * on a reconnect happened before the socket was open: they are kept (`replayed`) but not timed.
 */
class LiveView {
  constructor(url, key, runId) {
    this.url = `${url.replace(/^http/, 'ws')}/api/v1/runs/${runId}/live`;
    this.key = key;
    this.runId = runId;
    this.snapshot = undefined;
    this.events = []; // { seq, event, receivedAt (epoch ms), receivedPerf, replayed }
    this.waiters = [];
    this.lastSeq = 0;
    this.reconnects = 0;
    this.closing = false;
    this.ws = undefined;
  }

  /** Opens the socket; the first time resolves once the snapshot has arrived, later once open. */
  connect() {
    const first = this.snapshot === undefined;
    const ws = new WebSocket(first ? this.url : `${this.url}?after=${this.lastSeq}`, { headers: { authorization: `Bearer ${this.key}` } });
    this.ws = ws;
    let openedAt = Infinity;
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          ws.terminate();
          reject(new Error(`live view of ${this.runId}: ${err}`));
        } else resolve(this);
      };
      const timer = setTimeout(() => done(`not connected within ${EVENT_TIMEOUT_MS} ms`), EVENT_TIMEOUT_MS);
      ws.on('error', (err) => done(err.message));
      ws.on('unexpected-response', (_req, res) => done(`HTTP ${res.statusCode} instead of a WebSocket upgrade`));
      ws.on('open', () => {
        openedAt = Date.now();
        if (!first) done();
      });
      ws.on('message', (data) => {
        // Both clocks: the epoch one to compare with the server's `ts`, the monotonic one for client intervals.
        const receivedAt = Date.now();
        const receivedPerf = now();
        const msg = JSON.parse(String(data));
        if (msg.type === 'snapshot' && first && !this.snapshot) {
          this.snapshot = msg;
          this.lastSeq = msg.seq;
          done();
        }
        if (msg.type !== 'event' || msg.seq <= this.lastSeq) return;
        this.lastSeq = msg.seq;
        const entry = { seq: msg.seq, event: msg.event, receivedAt, receivedPerf, replayed: Date.parse(msg.event.ts) < openedAt - 1 };
        this.events.push(entry);
        this.waiters = this.waiters.filter((w) => !(w.match(entry.event) && (w.resolve(entry), true)));
      });
      ws.on('close', () => {
        if (this.closing || !this.snapshot || this.ws !== ws) return;
        if (++this.reconnects > MAX_RECONNECTS) return;
        setTimeout(() => this.connect().catch(() => undefined), 100 * this.reconnects);
      });
    });
  }

  /** The first event (already received or to come) that matches. */
  waitFor(match, what) {
    const seen = this.events.find((e) => match(e.event));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`live view of ${this.runId}: no ${what} within ${EVENT_TIMEOUT_MS} ms (socket ${['connecting', 'open', 'closing', 'closed'][this.ws.readyState]}, ${this.reconnects} reconnects)`)), EVENT_TIMEOUT_MS).unref();
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  close() {
    this.closing = true;
    this.ws?.close();
  }
}

async function waitStatus(api, id, status) {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (;;) {
    const run = await api('GET', `/runs/${id}`);
    if (run.status === status) return run;
    if (TERMINAL.has(run.status) || Date.now() > deadline) throw new Error(`run ${id} is ${run.status}, expected ${status}${run.reason ? ` (${run.reason})` : ''}`);
    await sleep(20);
  }
}

/** `api` starts the runs (admin); `approve` approves (another key, role sre); `key` opens the sockets. */
export async function livePhase({ url, key, api, approve, runbook, runs, steps }) {
  const eventMs = [];
  const byType = {};
  const approveToEventMs = [];
  const approveHttpMs = [];
  let gaps = 0;
  let replayed = 0;
  let reconnects = 0;
  for (let r = 0; r < runs; r++) {
    const { id } = await api('POST', '/runs', { runbook, mode: 'execute', context: { environment: 'prod' } });
    await waitStatus(api, id, 'awaiting_approval');
    const live = await new LiveView(url, key, id).connect();
    try {
      const stepIds = live.snapshot.run.steps.map((s) => s.id);
      if (stepIds.length !== steps) throw new Error(`run ${id} has ${stepIds.length} steps, expected ${steps}`);
      for (const [i, stepId] of stepIds.entries()) {
        if (i > 0) await live.waitFor((ev) => ev.type === 'step.awaiting_approval' && ev.step?.id === stepId, `step.awaiting_approval of ${stepId}`);
        const approved = live.waitFor((ev) => ev.type === 'step.approved' && ev.step?.id === stepId, `step.approved of ${stepId}`);
        approved.catch(() => undefined); // awaited below; not an unhandled rejection if the approve call throws first
        const sentAt = now();
        await approve('POST', `/runs/${id}/steps/${stepId}/approve`, { comment: 'bench' });
        approveHttpMs.push(now() - sentAt);
        const ev = await approved;
        if (!ev.replayed) approveToEventMs.push(ev.receivedPerf - sentAt);
        progress(`live view: run ${r + 1}/${runs}, step ${i + 1}/${steps}`);
      }
      const end = await live.waitFor((ev) => ev.type.startsWith('run.') && TERMINAL.has(ev.run?.status), 'end of the run');
      if (end.event.run.status !== 'succeeded') throw new Error(`run ${id} ended ${end.event.run.status}: ${end.event.run.reason ?? ''}`);
      let prevSeq = live.snapshot.seq;
      for (const e of live.events) {
        if (e.seq !== prevSeq + 1) gaps++;
        prevSeq = e.seq;
        if (e.replayed) {
          replayed++;
          continue;
        }
        const ms = e.receivedAt - Date.parse(e.event.ts);
        eventMs.push(ms);
        (byType[e.event.type] ??= []).push(ms);
      }
      reconnects += live.reconnects;
    } finally {
      live.close();
    }
  }
  progressEnd();
  const ms = (xs) => Object.fromEntries(Object.entries(summary(xs)).map(([k, v]) => [k, k === 'n' ? v : round(v, 2)]));
  return {
    runs,
    steps_per_run: steps,
    events: eventMs.length,
    seq_gaps: gaps,
    reconnects,
    replayed_events_not_timed: replayed,
    event_latency_ms: ms(eventMs),
    event_latency_by_type_ms: Object.fromEntries(Object.entries(byType).map(([t, xs]) => [t, ms(xs)])),
    approve_to_event_ms: ms(approveToEventMs),
    approve_http_ms: ms(approveHttpMs),
  };
}
