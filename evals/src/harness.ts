import type { Provider } from '../../worker/agents';
import { RunEngine, type PendingEvent } from '../../worker/runs/engine';
import { TERMINAL_RUN, runView, type RunState, type RunView, type TraceRecord } from '../../worker/runs/types';
import { MemoryInvoker } from './invoker';
import type { LoadedCase } from './load-cases';

/** A shadow run that has not ended after this many engine slices is stuck (a slice is up to 1 s of work). */
const MAX_TICKS = 500;

export interface Attempt {
  view: RunView;
  traces: TraceRecord[];
  /**
   * Time of the whole run: planning, every step's arguments, decision, review and simulated call.
   * Agent calls count with the latency their provider reports, so a replayed recording is timed
   * as the model was when it answered, not as fast as a file is read.
   */
  latency_ms: number;
  calls: MemoryInvoker['calls'];
  /** The engine itself failed (a bug, not an agent's mistake). */
  error?: string;
}

/** The run a case starts, as `startRun` would build it for a shadow run of the eval tenant. */
export function initialState(c: LoadedCase, rep: number, world: Record<string, unknown>): RunState {
  const { spec, runbook } = c;
  return {
    id: `run_eval_${spec.name}_${rep}`,
    tenantId: 'eval',
    runbook: { id: `rb_eval_${runbook.metadata.name}`, name: runbook.metadata.name, version: 1 },
    spec: runbook,
    policy: c.policy,
    policyId: null,
    mode: 'shadow',
    status: 'queued',
    inputs: structuredClone(c.inputs),
    context: structuredClone(spec.context),
    actor: { type: 'api_key', id: `eval-${spec.role}`, role: spec.role },
    integrationMode: 'simulated',
    created_at: new Date().toISOString(),
    cost_usd: 0,
    tokens: 0,
    steps: runbook.spec.steps.map((s, idx) => ({ id: s.id, idx, tool: s.tool, status: 'pending', attempts: 0, approvals: [] })),
    cursor: 0,
    compensate: [],
    world: structuredClone(world),
    seq: 0,
    audited_seq: 0,
  };
}

/**
 * Runs one attempt of a case through the platform's own run engine, in this process: the planner,
 * toolcaller and reviewer through `provider`, the policy's decision on every step, the simulated
 * tools on the case's world. The engine's host keeps everything in memory instead of a Durable
 * Object's storage; the engine cannot tell the difference.
 */
export async function runAttempt(c: LoadedCase, provider: Provider, rep: number, world: Record<string, unknown>): Promise<Attempt> {
  const run = initialState(c, rep, world);
  let inCalls = 0;
  const timed: Provider = {
    name: provider.name,
    model: provider.model,
    complete: async (req) => {
      const t0 = performance.now();
      try {
        return await provider.complete(req);
      } finally {
        inCalls += performance.now() - t0;
      }
    },
  };
  const invoker = new MemoryInvoker();
  const traces: TraceRecord[] = [];
  const engine = new RunEngine(run, {
    now: () => Date.now(),
    invoker,
    commit: async (events: PendingEvent[]) => {
      for (const e of events) if (e.trace) traces.push(e.trace);
    },
    agents: { provider: () => timed, history: async () => [] },
  });
  const started = performance.now();
  let error: string | undefined;
  try {
    for (let i = 0; i < MAX_TICKS && !TERMINAL_RUN.has(run.status); i++) await engine.tick();
    if (!TERMINAL_RUN.has(run.status)) error = `the run did not end after ${MAX_TICKS} engine slices (status ${run.status})`;
  } catch (err) {
    error = `the run engine failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  const reported = traces.reduce((n, t) => n + t.latency_ms, 0);
  const latency_ms = Math.round((performance.now() - started - inCalls + reported) * 100) / 100;
  return { view: runView(run), traces, latency_ms, calls: invoker.calls, ...(error !== undefined && { error }) };
}
