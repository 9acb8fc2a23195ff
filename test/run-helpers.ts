import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { editStoredRun, RunStore } from '../worker/runs/state-store';
import type { RunState, RunView } from '../worker/runs/types';
import { api, json, settleAudit } from './helpers';

export function stubFor(tenantId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${tenantId}:${runId}`));
}

export async function createRunbook(key: string, yaml: string): Promise<{ id: string; name: string; version: number }> {
  const res = await api('/runbooks', { method: 'POST', key, yaml });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body as { id: string; name: string; version: number };
}

export async function startRun(key: string, body: Record<string, unknown>): Promise<string> {
  const res = await api('/runs', { method: 'POST', key, json: body });
  const out = await json<{ id: string; status: string }>(res);
  expect(res.status, JSON.stringify(out)).toBe(201);
  return out.id;
}

export function getRun(key: string, id: string): Promise<RunView> {
  return json<RunView>(api(`/runs/${id}`, { key }));
}

/**
 * Drives a run's alarms until it reaches one of `statuses` — never waiting on real time:
 * each alarm is run directly, as the platform would when it comes due.
 */
export async function driveUntil(tenantId: string, key: string, id: string, statuses: string[], maxAlarms = 50): Promise<RunView> {
  const stub = stubFor(tenantId, id);
  for (let i = 0; i < maxAlarms; i++) {
    const run = await getRun(key, id);
    if (statuses.includes(run.status)) {
      // Alarms also fire by themselves, and the view is read from memory: settle() waits for a tick
      // in flight to finish copying to D1 and the audit log, settleAudit for the log's copy to D1.
      await stub.settle();
      await settleAudit(tenantId);
      return getRun(key, id);
    }
    await fastForward(stub);
    await runDurableObjectAlarm(stub);
  }
  const run = await getRun(key, id);
  expect(statuses, `run stuck in ${run.status}: ${JSON.stringify(run.steps.map((s) => [s.id, s.status, s.error]))}`).toContain(run.status);
  return run;
}

export const statusOf = (run: RunView) => Object.fromEntries(run.steps.map((s) => [s.id, s.status]));

/** The run as its object stored it. */
export async function storedRun(stub: ReturnType<typeof stubFor>): Promise<RunState | undefined> {
  return runInDurableObject(stub, (_instance, state) => new RunStore(state.storage).load());
}

/**
 * Changes a run's stored state (as time passing or a crash would leave it), then evicts its
 * object, which reads the changed state when it next wakes: tests never touch the object's fields.
 */
export async function editRun(stub: ReturnType<typeof stubFor>, edit: (run: RunState) => void): Promise<void> {
  await stub.settle();
  await runInDurableObject(stub, (_instance, state) => editStoredRun(state.storage, edit));
  await evictDurableObject(stub).catch((err: Error) => {
    if (!/not currently running/.test(err.message)) throw err;
  });
}

/** Moves every pending wake-up (durable sleep, retry backoff) into the past: time passes, instantly. */
export async function fastForward(stub: ReturnType<typeof stubFor>): Promise<void> {
  const stored = await storedRun(stub);
  const past = (at: string | undefined) => at !== undefined && Date.parse(at) > Date.now();
  if (!stored?.steps.some((s) => past(s.wake_at) || past(s.compensation?.next_at))) return;
  await editRun(stub, (run) => {
    for (const s of run.steps) {
      if (past(s.wake_at)) s.wake_at = new Date(Date.now() - 1).toISOString();
      if (s.compensation && past(s.compensation.next_at)) s.compensation.next_at = new Date(Date.now() - 1).toISOString();
    }
  });
}
