// "Stopping npm start in the middle of a run (a `core.wait` step) and starting it again: the run
// finishes, and no step ran twice." This file runs its own `wrangler dev` (own port, own state),
// because it stops and restarts it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  createRunbook,
  d1Query,
  getRun,
  pollUntil,
  startInstance,
  startRun,
  startServer,
  uniqueName,
  waitForRun,
  type Api,
  type DevServer,
  type Instance,
} from './helpers';

const WAIT_MS = 3_000;

let inst: Instance;
/** The server currently running on the instance's port and state (replaced by each restart). */
let current: DevServer;
let api: Api;

beforeAll(async () => {
  inst = await startInstance('agentrunbook-restart');
  current = inst;
  api = apiClient(inst.url, inst.adminKey);
});

afterAll(async () => {
  if (current && current !== inst) await current.stop().catch(() => undefined);
  await inst?.dispose();
});

function waitingRunbook(name: string): string {
  return `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${name}
  description: e2e — a mutating step, a durable sleep, another mutating step
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-restart }
    - id: wait
      tool: core.wait
      with: { duration: ${WAIT_MS / 1000}s }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Cordoned node-restart' }
`;
}

/** The run's status as the D1 listing shows it: reading it never touches the run's Durable Object. */
async function listedStatus(runbook: string, id: string): Promise<string | undefined> {
  const res = await api('GET', `/runs?runbook=${encodeURIComponent(runbook)}`);
  if (res.status !== 200) throw new Error(`GET /runs answered ${res.status}: ${res.text}`);
  return (res.body.items as { id: string; status: string }[]).find((r) => r.id === id)?.status;
}

describe('a run survives a restart of wrangler dev in the middle of a core.wait step', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`finishes after ${signal}, every step exactly once`, async () => {
      const { name } = await createRunbook(api, waitingRunbook(uniqueName(`e2e-restart-${signal.toLowerCase()}`)));
      const id = await startRun(api, name);

      // Catch the run inside the wait: cordon done, the sleep armed as an alarm.
      const during = await pollUntil(
        'the wait step to be running',
        () => getRun(api, id),
        (r) => r.steps.find((s) => s.id === 'wait')?.status === 'running' || ['succeeded', 'failed'].includes(r.status),
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      expect(during.steps.map((s) => [s.id, s.status])).toEqual([
        ['cordon', 'succeeded'],
        ['wait', 'running'],
        ['ticket', 'pending'],
      ]);

      const tStop = Date.now();
      await current.stop(signal);
      const stopMs = Date.now() - tStop;
      // The server really is down.
      await expect(fetch(`${inst.url}/api/v1/healthz`)).rejects.toThrow();

      const tStart = Date.now();
      current = await startServer({ port: inst.port, persistTo: inst.persistTo, token: inst.token });
      const startMs = Date.now() - tStart;
      const sinceStop = Date.now() - tStop;

      // Does workerd fire the (by now overdue) alarm on its own? Watch the D1 listing only, which
      // never wakes the run's object, for a while before anything calls GET /runs/{id}.
      const tWatch = Date.now();
      let selfFired = false;
      try {
        await pollUntil('the run to finish without being read', () => listedStatus(name, id), (s) => s === 'succeeded', { timeoutMs: 10_000, intervalMs: 250 });
        selfFired = true;
      } catch {
        selfFired = false;
      }
      const watchMs = Date.now() - tWatch;
      console.log(
        `[e2e restart ${signal}] stop took ${stopMs} ms, start ${startMs} ms (${sinceStop} ms down in all, the wait was ${WAIT_MS} ms); ` +
          (selfFired
            ? `the overdue alarm fired by itself: run succeeded ${watchMs} ms after the restart, without GET /runs/{id}`
            : `the overdue alarm did NOT fire by itself within ${watchMs} ms; relying on GET /runs/{id} (ensureScheduled) to re-arm it`),
      );

      // GET /runs/{id} also re-arms a missing alarm, so this finishes the run either way.
      const done = await waitForRun(api, id, ['succeeded'], 30_000);
      expect(done.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
        ['cordon', 'succeeded', 1],
        ['wait', 'succeeded', 1],
        ['ticket', 'succeeded', 1],
      ]);
      const waited = (done.steps[1]!.result as { waited_ms?: number } | undefined)?.waited_ms;
      expect(waited).toBeGreaterThanOrEqual(WAIT_MS);

      // The tool-call ledger (the simulated vendors' memory of idempotency keys) holds each call once.
      const rows = await d1Query<{ idempotency_key: string; step_id: string; tool: string }>(
        inst.persistTo,
        `select idempotency_key, step_id, tool from tool_calls where run_id = '${id}' order by created_at`,
      );
      const keys = rows.map((r) => r.idempotency_key);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.sort()).toEqual([`${id}:cordon:1`, `${id}:ticket:1`].sort());

      // Each step started exactly once according to the run's own event history.
      const events = await api('GET', `/runs/${id}/events`);
      expect(events.status).toBe(200);
      const items = events.body.items as { type?: string; ts: string; step?: { id: string } }[];
      const started = items.filter((e) => e.type === 'step.started').map((e) => e.step?.id);
      expect(started).toEqual(['cordon', 'wait', 'ticket']);
      // And the stop really came in the middle of the wait: it ended after the restart.
      const waitEnded = items.find((e) => e.type === 'step.succeeded' && e.step?.id === 'wait');
      expect(Date.parse(waitEnded!.ts)).toBeGreaterThan(tStart);

      // The audit chain written before and after the restart verifies (same .dev.vars key).
      const verify = await api('GET', '/audit/verify');
      expect(verify.status).toBe(200);
      expect(verify.body).toMatchObject({ ok: true });
      expect(verify.body.entries).toBeGreaterThan(0);
      const audited = await api('GET', `/audit?resource_type=run&resource_id=${id}&limit=1000`);
      expect(audited.status).toBe(200);
      const actions = (audited.body.items as { action: string }[]).map((e) => e.action);
      expect(actions.filter((a) => a === 'run.step.started')).toHaveLength(3);
      expect(actions.at(-1)).toBe('run.succeeded');
    });
  }
});
