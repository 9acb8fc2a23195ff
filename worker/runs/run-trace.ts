/**
 * A run as a trace (DESIGN §11). Its id comes from the run id (`runTraceContext`), so the run's
 * object can put every invocation it serves (start, each alarm, an approval, a cancel — minutes or
 * days apart, in different isolates) into that one trace without storing anything. The root span
 * `run <runbook>` spans creation to end and is recorded once, when the run has ended; steps, tool
 * calls and agent calls are its descendants (engine.ts, invoke.ts, agents/trace.ts).
 *
 * Attributes name things (tenant, run, runbook, tool, step) and count things (tokens, cost); they
 * never carry inputs, arguments, results or prompts, which may hold what the tenant considers secret.
 */
import type { Attributes } from '../observability/tracing';
import { recordSpan, runTraceContext } from '../observability/tracing';
import type { RunState } from './types';

type RunIdentity = Pick<RunState, 'id' | 'tenantId' | 'runbook' | 'mode' | 'integrationMode'>;

/** What identifies a run on its spans. */
export function runAttributes(run: RunIdentity): Attributes {
  return {
    'agentrunbook.tenant': run.tenantId,
    'agentrunbook.run_id': run.id,
    'agentrunbook.runbook': run.runbook.name,
    'agentrunbook.runbook_version': run.runbook.version,
    'agentrunbook.run.mode': run.mode,
    'agentrunbook.integration_mode': run.integrationMode,
  };
}

/** Failed and denied runs are errors in the trace; a cancelled run is an outcome someone chose. */
const FAILED = new Set(['failed', 'denied']);

/** Exports the root span of a run that has ended (the caller makes sure this happens once). */
export function recordRunSpan(env: object, waitUntil: (p: Promise<unknown>) => void, run: RunState): void {
  const root = runTraceContext(run.id);
  const start = Date.parse(run.created_at);
  recordSpan(env, waitUntil, {
    ...root,
    name: `run ${run.runbook.name}`,
    startMs: start,
    endMs: run.ended_at ? Date.parse(run.ended_at) : Date.now(),
    attributes: {
      ...runAttributes(run),
      'agentrunbook.run.status': run.status,
      'agentrunbook.cost_usd': run.cost_usd,
      'agentrunbook.tokens': run.tokens,
      'agentrunbook.run.steps': run.steps.length,
    },
    ...(FAILED.has(run.status) ? { error: run.reason ?? `Run ${run.status}` } : {}),
    ...(run.started_by_span ? { links: [run.started_by_span] } : {}),
  });
}
