/**
 * The events a commit records, and the D1-backed services the engine's host lends it. Kept apart
 * from the run's Durable Object, which is only the runtime glue between them.
 */
import type { DB } from '../db/client';
import { factsSource } from '../policy/facts-load';
import { limitCounts, reserveLimitSlot, tenantCostToday } from '../policy/usage';
import type { Governor, PendingEvent } from './engine';
import { loadRunHistory } from './history';
import { stepView, type RunEvent, type RunState, type TraceRecord } from './types';

/** Numbers the pending events (advancing `run.seq`) and gives each the run's summary and its step's view. */
export function sealEvents(run: RunState, pending: PendingEvent[], ts = new Date().toISOString()): { events: RunEvent[]; traces: TraceRecord[] } {
  const summary = { status: run.status, ended_at: run.ended_at, cost_usd: run.cost_usd, tokens: run.tokens, reason: run.reason };
  const traces: TraceRecord[] = [];
  const events = pending.map((e): RunEvent => {
    const step = e.step ? run.steps.find((s) => s.id === e.step) : undefined;
    if (e.trace) traces.push(e.trace);
    return {
      seq: ++run.seq,
      ts,
      type: e.type,
      ...(e.message ? { message: e.message } : {}),
      ...(e.actor ? { actor: e.actor } : {}),
      run: summary,
      ...(step ? { step: stepView(step) } : {}),
      ...(e.trace ? { trace: e.trace } : {}),
      ...(e.hallucination ? { hallucination: e.hallucination } : {}),
    };
  });
  return { events, traces };
}

/** How long a run's engine trusts the facts it looked up (labels, the tenant's schedule). */
export const RUN_FACTS_MAX_AGE_MS = 5_000;

/** The tenant-wide counters (budgets, blast-radius limits) and trusted facts a run's engine checks, in D1. */
export function d1Governor(db: DB, run: RunState): Governor {
  const facts = factsSource(db, run.tenantId, { maxAgeMs: RUN_FACTS_MAX_AGE_MS });
  return {
    tenantCostToday: () => tenantCostToday(db, run.tenantId, run.id, Date.now()),
    limitCounts: (toolId) => limitCounts(db, run.tenantId, run.policy, toolId, Date.now()),
    reserve: (stepId, toolId) => reserveLimitSlot(db, { tenantId: run.tenantId, runId: run.id, stepId, tool: toolId }, run.policy, Date.now()),
    facts: (toolId, args) => facts.forCall(toolId, args, Date.now()),
  };
}

/** How the last runs of the same runbook ended (the planner's history). */
export const runHistory = (db: DB, run: RunState) => () => loadRunHistory(db, run.tenantId, run.runbook.name, run.id);
