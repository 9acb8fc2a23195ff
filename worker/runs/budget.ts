/**
 * The run's budgets as the engine applies them: the counters they are checked against, and the
 * clean stop when one is exceeded (agent calls are charged, then checked). Part of the run engine.
 */
import { budgetReason, type Usage } from '../policy/decide';
import type { PendingEvent, RunEngine } from './engine';
import type { StepState } from './types';

/** The tenant's spend is read at most this often per engine (it moves slowly; each read is a query). */
const TENANT_COST_TTL_MS = 5_000;

/**
 * Commits what an agent call recorded (its trace, charged to the run) before the answer is
 * acted on, then checks the per-run budget the charge counts against. Returns true when the
 * budget stopped the run.
 */
export async function recordAgents(e: RunEngine, step: StepState, events: PendingEvent[]): Promise<boolean> {
  if (events.length === 0) return false;
  await e.host.commit(events);
  if (!events.some((ev) => ev.trace)) return false;
  const budget = budgetReason(e.run.policy, await usage(e));
  if (!budget) return false;
  await stopForBudget(e, step, budget.message);
  return true;
}

/** The counters budgets are checked against: the run's own, and the tenant's when a governor is given. */
export async function usage(e: RunEngine): Promise<Usage> {
  const run = e.run;
  const now = e.host.now();
  const counters: Usage = {
    run: {
      steps_started: run.steps.filter((s) => s.attempts > 0).length,
      elapsed_ms: run.started_at ? now - Date.parse(run.started_at) : 0,
      tokens: run.tokens,
      cost_usd: run.cost_usd,
    },
  };
  const governor = e.host.governor;
  if (governor && run.policy.spec.budgets.per_tenant.max_cost_usd_per_day !== undefined) {
    if (!e.tenantCost || now - e.tenantCost.at > TENANT_COST_TTL_MS) {
      e.tenantCost = { at: now, value: await governor.tenantCostToday() };
    }
    counters.tenant = { cost_usd_today: e.tenantCost.value + run.cost_usd };
  }
  return counters;
}

/** A budget stops the run cleanly: this and the later steps are skipped, then `on_failure` applies. */
export async function stopForBudget(e: RunEngine, step: StepState, why: string): Promise<void> {
  const spec = e.specOf(step);
  e.run.reason = `budget_exceeded: ${why}`;
  e.skipRemaining(step.idx);
  const events: PendingEvent[] = [{ type: 'run.budget_exceeded', step: step.id, message: `Budget exceeded before step ${step.id}: ${why}` }];
  if (spec.on_failure === 'compensate') e.queueCompensation();
  if (e.run.compensate.length > 0) {
    e.run.outcome = 'failed';
    events.push({ type: 'run.compensating', message: `Compensating ${e.run.compensate.join(', ')}` });
    await e.host.commit(events);
    return;
  }
  await e.finish('failed', e.run.reason, events);
}
