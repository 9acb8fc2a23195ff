import { describe, expect, it } from 'vitest';
import { runbookPlan, validatePlan } from '../agents';
import { runbookFrom } from '../agents/test-helpers';
import { plannedSteps } from './planned-steps';
import { newRunState } from './test-helpers';
import type { RunState } from './types';

const RUNBOOK = runbookFrom(`apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: node }
spec:
  inputs:
    node: { type: string, required: true }
    incident_id: { type: string }
  steps:
    - id: ack
      tool: pagerduty.acknowledge_incident
      if: 'has(inputs.incident_id)'
      with: { incident_id: '\${{ inputs.incident_id }}' }
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }}' }
`);

const run = (): RunState => newRunState(RUNBOOK, { status: 'planning', seq: 1 });

const ctx = (r: RunState) => ({
  runbook: r.spec,
  allowed: new Set(['k8s.get_node', 'k8s.get_deployment', 'k8s.cordon_node', 'jira.create_issue', 'pagerduty.acknowledge_incident']),
  vars: { inputs: r.inputs, context: r.context, run: { id: r.id } },
});

describe('plannedSteps', () => {
  it("the stub's plan is the runbook: same steps, same objects, same order, nothing skipped", () => {
    const r = run();
    const before = [...r.steps];
    const planned = plannedSteps(r, validatePlan(runbookPlan(RUNBOOK), ctx(r)), 'now');
    expect(planned.steps.map((s) => [s.id, s.idx, s.status])).toEqual([['ack', 0, 'pending'], ['cordon', 1, 'pending'], ['ticket', 2, 'pending']]);
    planned.steps.forEach((s, i) => expect(s).toBe(before[i]));
    expect(planned.skipped).toEqual([]);
    expect(planned.hallucinations).toEqual([]);
  });

  it('added steps get their own spec and a place before the step they inform; a skipped step stays, marked; indices follow positions', () => {
    const r = run();
    const plan = validatePlan(
      {
        steps: [
          { id: 'look', tool: 'k8s.get_node', args_json: '{"cluster":"prod-eu","node":"node-7"}', reason: 'Check the node first' },
          { id: 'cordon', tool: 'k8s.cordon_node', args_json: '{}', reason: 'Stop scheduling', from_runbook_step: 'cordon' },
          { id: 'ticket', tool: 'jira.create_issue', args_json: '{}', reason: 'Tell people', from_runbook_step: 'ticket' },
          { id: 'boom', tool: 'k8s.explode', args_json: '{}', reason: 'why not' },
        ],
      },
      ctx(r),
    );
    const planned = plannedSteps(r, plan, '2026-01-01T00:00:01.000Z');
    expect(planned.steps.map((s) => [s.id, s.idx, s.status])).toEqual([
      ['ack', 0, 'skipped'],
      ['look', 1, 'pending'],
      ['cordon', 2, 'pending'],
      ['ticket', 3, 'pending'],
    ]);
    expect(planned.steps[0]!.plan).toEqual({ reason: 'Condition is false: has(inputs.incident_id)' });
    expect(planned.steps[1]!.plan).toMatchObject({ added: true, reason: 'Check the node first', spec: { tool: 'k8s.get_node', with: { cluster: 'prod-eu', node: 'node-7' }, on_failure: 'continue' } });
    expect(planned.skipped).toEqual([{ id: 'ack', reason: 'Condition is false: has(inputs.incident_id)' }]);
    expect(planned.hallucinations).toEqual([expect.objectContaining({ agent: 'planner', kind: 'unknown_tool', step_id: 'boom', at: '2026-01-01T00:00:01.000Z' })]);
  });
});
