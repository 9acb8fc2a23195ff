import { describe, expect, it } from 'vitest';
import type { Hallucination, RunView, StepView } from '../runs/types';
import { expectedFromRun, expectedPlanProblems } from './expectation';
import { shadowReport } from './report';

function stepView(id: string, tool: string, status: StepView['status'], args: Record<string, unknown> | null, over: Partial<StepView> = {}): StepView {
  return { id, tool, status, args, attempts: status === 'succeeded' ? 1 : 0, approvals: [], ...over };
}

const DENY = {
  effect: 'deny' as const,
  reasons: [
    { kind: 'role' as const, name: 'sre', effect: 'allow' as const, message: 'Role "sre" may use k8s.drain_node' },
    { kind: 'rule' as const, name: 'change-freeze', effect: 'deny' as const, message: 'Change freeze in effect' },
  ],
};

function run(steps: StepView[], over: Partial<RunView> = {}): Pick<RunView, 'id' | 'status' | 'steps' | 'hallucinations'> {
  return { id: 'run_1', status: 'denied', steps, ...over };
}

describe('shadowReport', () => {
  const expected = [
    { tool: 'pagerduty.acknowledge_incident', args: { incident_id: 'Q1' } },
    { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } },
    { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } },
  ];

  it('compares the steps the agent would run, leaving out those it skipped', () => {
    const r = shadowReport(
      run([
        stepView('ack', 'pagerduty.acknowledge_incident', 'skipped', null),
        stepView('cordon', 'k8s.cordon_node', 'simulated', { cluster: 'prod-eu', node: 'node-7' }),
        stepView('drain', 'k8s.drain_node', 'denied', { cluster: 'prod-eu', node: 'node-7' }, { decision: DENY }),
      ]),
      { source: 'expected', expected },
    );
    expect(r.steps.map((s) => s.kind)).toEqual(['missed', 'matched', 'matched']);
    expect(r.score).toBe(0.6667);
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([{ step: 'drain', tool: 'k8s.drain_node', kind: 'denied', message: 'Change freeze in effect' }]);
  });

  it('lists the policy refusals among the hallucinations as violations too', () => {
    const refused: Hallucination = { agent: 'planner', kind: 'mutating_addition', step_id: 'fix', tool: 'k8s.scale_deployment', reason: 'a planner may add read-only steps only', at: '2026-01-05T09:00:00.000Z' };
    const unknown: Hallucination = { agent: 'planner', kind: 'unknown_tool', step_id: 'x', tool: 'k8s.nuke', reason: 'Unknown tool', at: '2026-01-05T09:00:00.000Z' };
    const r = shadowReport(run([], { status: 'succeeded', hallucinations: [refused, unknown] }), { source: 'expected', expected: [] });
    expect(r.violations).toEqual([{ step: 'fix', tool: 'k8s.scale_deployment', kind: 'refused', message: refused.reason }]);
    expect(r.hallucinations).toHaveLength(2);
    expect(r.score).toBe(1);
  });

  it('is not complete while the run is going', () => {
    const r = shadowReport(run([stepView('cordon', 'k8s.cordon_node', 'pending', null)], { status: 'running' }), { source: 'expected', expected: expected.slice(1, 2) });
    expect(r.complete).toBe(false);
    expect(r.steps[0]).toMatchObject({ kind: 'changed', differences: [{ path: 'cluster', kind: 'missing' }, { path: 'node', kind: 'missing' }] });
  });

  it('compares every argument against a reference run', () => {
    const expectation = { source: 'reference_run' as const, reference_run: 'run_0', expected: [{ tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } }] };
    const r = shadowReport(run([stepView('drain', 'k8s.drain_node', 'simulated', { cluster: 'prod-eu', node: 'node-7', grace_period_seconds: 5 })], { status: 'succeeded' }), expectation);
    expect(r).toMatchObject({ source: 'reference_run', reference_run: 'run_0', exact: false });
    expect(r.steps[0]!.differences).toEqual([{ path: 'grace_period_seconds', kind: 'added', actual: 5 }]);
  });
});

describe('expectedFromRun', () => {
  it('takes the calls a run made, in order, with their arguments', () => {
    const plan = expectedFromRun([
      stepView('ack', 'pagerduty.acknowledge_incident', 'skipped', null),
      stepView('cordon', 'k8s.cordon_node', 'succeeded', { cluster: 'prod-eu', node: 'node-7' }),
      stepView('drain', 'k8s.drain_node', 'denied', { cluster: 'prod-eu', node: 'node-7' }),
      stepView('uncordon', 'k8s.uncordon_node', 'failed', { cluster: 'prod-eu', node: 'node-7' }, { attempts: 3 }),
      stepView('broken', 'jira.create_issue', 'failed', null),
      stepView('dry', 'jira.create_issue', 'simulated', { project: 'OPS', summary: 'x' }),
    ]);
    expect(plan).toEqual([
      { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } },
      { tool: 'k8s.uncordon_node', args: { cluster: 'prod-eu', node: 'node-7' } },
      { tool: 'jira.create_issue', args: { project: 'OPS', summary: 'x' } },
    ]);
  });
});

describe('expectedPlanProblems', () => {
  it('names unknown tools and arguments with a suggestion', () => {
    expect(expectedPlanProblems([{ tool: 'k8s.drian_node' }, { tool: 'k8s.drain_node', args: { nod: 'node-7' } }])).toEqual([
      { path: 'expected[0].tool', message: 'unknown tool "k8s.drian_node"; did you mean "k8s.drain_node"?' },
      { path: 'expected[1].args.nod', message: 'k8s.drain_node has no argument "nod"; did you mean "node"?' },
    ]);
    expect(expectedPlanProblems([{ tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } }])).toEqual([]);
  });
});
