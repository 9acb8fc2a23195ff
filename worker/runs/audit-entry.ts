/**
 * What the audit log records of a run's events: who did what to which step, the decision and its
 * reasons, arguments when a call starts or waits, results when it succeeds (a large one by its
 * digest and preview). An agent call is recorded by what it was and cost; its answer is in the trace.
 */
import type { AuditInput } from '../audit/chain';
import type { RunEvent, TraceRecord } from './types';

/** The audit entry of one run event (its source key makes a repeated append a no-op). */
export function auditEntry(runId: string, ev: RunEvent): AuditInput {
  return {
    ts: ev.ts,
    actor: ev.actor ?? { type: 'system', id: 'run-engine' },
    action: ev.type.startsWith('run.') ? ev.type : `run.${ev.type}`,
    resource: { type: 'run', id: runId },
    data: {
      seq: ev.seq,
      ...(ev.message ? { message: ev.message } : {}),
      run_status: ev.run.status,
      ...(ev.step
        ? {
            step: ev.step.id,
            tool: ev.step.tool,
            status: ev.step.status,
            attempts: ev.step.attempts,
            ...(ev.type === 'step.started' || ev.type === 'step.awaiting_approval' ? { args: ev.step.args } : {}),
            ...(ev.step.decision && ev.type !== 'step.started' ? { decision: { effect: ev.step.decision.effect, reasons: ev.step.decision.reasons } } : {}),
            ...(ev.type === 'step.succeeded' ? (ev.step.result_ref ? { result_ref: ev.step.result_ref } : { result: ev.step.result }) : {}),
            ...(ev.step.error ? { error: ev.step.error } : {}),
          }
        : {}),
      // An agent call is audited by what it was and cost; its full answer is in the run's trace.
      ...(ev.trace ? { agent: auditedTrace(ev.trace) } : {}),
      ...(ev.hallucination ? { hallucination: ev.hallucination } : {}),
    },
    source_key: `run:${runId}:${ev.seq}`,
  };
}

function auditedTrace(t: TraceRecord): Record<string, unknown> {
  return {
    seq: t.seq,
    agent: t.agent,
    ...(t.step !== undefined ? { step: t.step } : {}),
    provider: t.provider,
    model: t.model,
    prompt_version: t.prompt_version,
    prompt_hash: t.prompt_hash,
    input_tokens: t.input_tokens,
    output_tokens: t.output_tokens,
    cost_usd: t.cost_usd,
    latency_ms: t.latency_ms,
    ...(t.error ? { error: t.error } : {}),
  };
}
