import { describe, expect, it } from 'vitest';
import { runbookFrom } from '../agents/test-helpers';
import type { DB } from '../db/client';
import { RunEngine, SLICE_MS, Superseded, type EngineHost, type PendingEvent } from './engine';
import { LedgerInvoker, type LedgerRow, type ToolCall, type ToolOutcome } from './invoke';
import { INLINE_RESULT_MAX_BYTES } from './results';
import { newRunState } from './test-helpers';
import type { RunState } from './types';

/**
 * The engine on a fake host: a clock that moves only when told, commits recorded with a copy of
 * the state they persisted, tools simulated (their ledger in memory) unless a script answers.
 */
class FakeHost implements EngineHost {
  clock = Date.parse('2026-12-08T10:00:00Z');
  commits: { events: PendingEvent[]; state: RunState }[] = [];
  ledger = new Map<string, LedgerRow>();
  calls: ToolCall[] = [];
  /** Answers instead of the simulation, by tool id (return undefined to simulate). */
  script: Record<string, (call: ToolCall) => ToolOutcome | Promise<ToolOutcome> | undefined> = {};
  run!: RunState;
  /** Set by a test to play the run's lock around a call (see EngineHost.outside). */
  outside?: EngineHost['outside'];
  private readonly simulated = new LedgerInvoker(undefined as unknown as DB, {
    record: async (row) => void this.ledger.set(row.idempotencyKey, row),
    recall: async (key) => this.ledger.get(key),
  });
  invoker = {
    invoke: async (call: ToolCall): Promise<ToolOutcome> => {
      this.calls.push(call);
      return (await this.script[call.tool.id]?.(call)) ?? this.simulated.invoke(call);
    },
  };
  now = () => this.clock;
  async commit(events: PendingEvent[]): Promise<void> {
    this.commits.push({ events, state: structuredClone(this.run) });
  }
  loadResult = async (ref: { key: string }) => (this.ledger.get(ref.key)?.result as { result: unknown }).result;
  events = () => this.commits.flatMap((c) => c.events.map((e) => e.type));
}

const RUNBOOK = runbookFrom(`apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: node }
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: scale
      tool: k8s.scale_deployment
      with: { cluster: prod-eu, namespace: payments, name: api, replicas: 3 }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }}: \${{ steps.cordon.result.node }}' }
      on_failure: compensate
`);


function setup(spec = RUNBOOK): { host: FakeHost; run: RunState; engine: () => RunEngine } {
  const host = new FakeHost();
  const run = newRunState(spec);
  host.run = run;
  return { host, run, engine: () => new RunEngine(run, host) };
}

/** Ticks until the run waits for a person or ends, moving the clock to each wake-up. */
async function drive(host: FakeHost, engine: () => RunEngine, maxTicks = 100): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    const wake = await engine().tick();
    if (wake === undefined) return;
    host.clock = Math.max(host.clock, wake);
  }
  throw new Error('the run did not settle');
}

const failing = (error: string, retryable: boolean): ToolOutcome => ({ ok: false, error, retryable, replayed: false });

describe('RunEngine on a fake host', () => {
  it('runs the steps in order, each committed before the next call, results chained into templates', async () => {
    const { host, run, engine } = setup();
    await drive(host, engine);
    expect(run.status).toBe('succeeded');
    expect(host.calls.map((c) => c.idempotencyKey)).toEqual(['run_1:cordon:1', 'run_1:scale:1', 'run_1:ticket:1']);
    expect(host.calls[2]!.args.summary).toBe('Node node-7: node-7');
    // Each call's step.started was committed before the call was made.
    const started = host.commits.findIndex((c) => c.events.some((e) => e.type === 'step.started' && e.step === 'scale'));
    expect(host.commits[started]!.state.steps[1]).toMatchObject({ status: 'running', attempts: 1 });
    // Every call had a deadline (none waits for ever).
    expect(host.calls.every((c) => typeof c.timeoutMs === 'number' && c.timeoutMs > 0)).toBe(true);
  });

  it('yields once its slice is used up and goes on from the same step at the next alarm', async () => {
    const { host, run, engine } = setup();
    // Each k8s call takes 60% of a slice: the third step starts in the next alarm.
    host.script['k8s.scale_deployment'] = () => void (host.clock += SLICE_MS * 0.6);
    host.script['k8s.cordon_node'] = () => void (host.clock += SLICE_MS * 0.6);
    const wake = await engine().tick();
    expect(wake).toBe(host.clock);
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'pending']);
    expect(await engine().tick()).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(host.calls.map((c) => c.tool.id)).toEqual(['k8s.cordon_node', 'k8s.scale_deployment', 'jira.create_issue']);
  });

  it('retries a failing compensation with backoff, each attempt under its own key, until it succeeds', async () => {
    const { host, run, engine } = setup();
    host.script['jira.create_issue'] = () => failing('Jira is down', false);
    let uncordons = 0;
    host.script['k8s.uncordon_node'] = () => (++uncordons < 3 ? failing('relay hiccup', true) : undefined);
    await drive(host, engine);
    expect(run.status).toBe('failed');
    expect(run.steps.find((s) => s.id === 'cordon')).toMatchObject({ status: 'compensated', compensation: { status: 'succeeded', attempts: 3 } });
    const keys = host.calls.filter((c) => c.tool.id === 'k8s.uncordon_node').map((c) => c.idempotencyKey);
    expect(keys).toEqual(['run_1:cordon:compensate:1', 'run_1:cordon:compensate:2', 'run_1:cordon:compensate:3']);
    expect(host.events().filter((t) => t === 'step.compensation_retrying')).toHaveLength(2);
    expect(run.compensation_failed).toBeUndefined();
  });

  it('a compensation that keeps failing ends the run compensation_failed for a person, who can retry it', async () => {
    const { host, run, engine } = setup();
    host.script['jira.create_issue'] = () => failing('Jira is down', false);
    let relayUp = false;
    host.script['k8s.uncordon_node'] = () => (relayUp ? undefined : failing('relay unreachable', true));
    await drive(host, engine, 200);
    expect(run.status).toBe('failed');
    expect(run.compensation_failed).toEqual(['cordon']);
    expect(run.reason).toMatch(/^compensation_failed: cordon could not be undone/);
    // The scale was still undone: one failure does not stop the others.
    expect(run.steps.find((s) => s.id === 'scale')!.status).toBe('compensated');
    relayUp = true;
    expect(await engine().retryCompensation({ type: 'api_key', id: 'sre-2', role: 'sre' })).toBe(true);
    await drive(host, engine);
    expect(run.status).toBe('failed');
    expect(run.compensation_failed).toBeUndefined();
    expect(run.steps.find((s) => s.id === 'cordon')!.status).toBe('compensated');
  });

  it('a tool removed by a deploy fails its step (and its compensation) instead of throwing', async () => {
    const { host, run, engine } = setup();
    await engine().tick().catch(() => undefined);
    // A step under way whose tool no longer exists after a deploy: it is delivered again.
    const step = run.steps[2]!;
    Object.assign(step, { tool: 'k8s.removed_tool', status: 'running', attempts: 1, args: {} });
    run.cursor = 2;
    run.status = 'running';
    await expect(drive(host, engine)).resolves.toBeUndefined();
    expect(step).toMatchObject({ status: 'failed', error: expect.stringMatching(/Unknown tool k8s.removed_tool/) });
    // on_failure: compensate — the earlier steps were undone.
    expect(run.steps.slice(0, 2).map((s) => s.status)).toEqual(['compensated', 'compensated']);
  });

  it('a cancel during a call marks the step outcome_unknown and compensates it like one that acted', async () => {
    const { host, run, engine } = setup();
    let superseded = false;
    // The host's lock: the cancel comes while the cordon's call is outside.
    host.outside = async <T,>(work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
      const value = await work(new AbortController().signal);
      if (run.steps[0]!.status === 'running' && !superseded) {
        superseded = true;
        await engine().cancel({ type: 'api_key', id: 'k2', role: 'sre' }, true);
        throw new Superseded();
      }
      return value;
    };
    await expect(engine().tick()).rejects.toBeInstanceOf(Superseded);
    expect(run.steps[0]).toMatchObject({ status: 'failed', outcome_unknown: true });
    expect(run.compensate).toEqual(['cordon']);
    delete host.outside;
    await drive(host, engine);
    expect(run.status).toBe('cancelled');
    expect(run.steps[0]!.compensation).toMatchObject({ tool: 'k8s.uncordon_node', status: 'succeeded' });
  });

  it('keeps a large result out of line: the step holds a preview and digest, templates still see the whole', async () => {
    const { host, run, engine } = setup();
    const big = 'x'.repeat(INLINE_RESULT_MAX_BYTES * 4);
    host.script['k8s.cordon_node'] = () => ({ ok: true, result: { node: 'node-7', log: big }, replayed: false });
    // The ledger (where the whole result is kept) is the host's: record it as a delivery would.
    const script = host.script['k8s.cordon_node'];
    host.script['k8s.cordon_node'] = (call) => {
      const out = script(call) as ToolOutcome;
      host.ledger.set(call.idempotencyKey, { result: { result: (out as { result: unknown }).result } } as LedgerRow);
      return out;
    };
    await drive(host, engine);
    expect(run.status).toBe('succeeded');
    const cordon = run.steps[0]!;
    expect(cordon.result).toBeUndefined();
    expect(cordon.result_ref).toMatchObject({ key: 'run_1:cordon:1', truncated: true });
    expect(cordon.result_ref!.bytes).toBeGreaterThan(INLINE_RESULT_MAX_BYTES * 4);
    expect(cordon.result_ref!.preview.length).toBeLessThan(1024);
    // Every committed state stays small however large the result.
    expect(Math.max(...host.commits.map((c) => JSON.stringify(c.state.steps[0]).length))).toBeLessThan(4 * 1024);
    // A fresh engine (after a restart) reads the whole result back for the template.
    expect(host.calls.find((c) => c.stepId === 'ticket')!.args.summary).toBe('Node node-7: node-7');
  });

  it('review: the quorum counts only approvals of the exact arguments; a second review by the same person is refused', async () => {
    const spec = runbookFrom(`apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: gated }
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      approval: required
      with: { cluster: prod-eu, node: n1 }
`);
    const { host, run, engine } = setup(spec);
    await drive(host, engine);
    expect(run.status).toBe('awaiting_approval');
    const sre = { type: 'api_key', id: 'k2', role: 'sre', canApprove: true };
    const step = await engine().review('cordon', sre, 'approve');
    expect(step).toMatchObject({ status: 'pending' });
    expect(await engine().review('cordon', sre, 'approve')).toMatchObject({ code: 'conflict' });
    await drive(host, engine);
    expect(run.status).toBe('succeeded');
  });
});
