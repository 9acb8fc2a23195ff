import { describe, expect, it } from 'vitest';
import { toolIds } from '../tools/catalog';
import { runbookPlan, stepSpec, validatePlan, type WirePlan } from './plan';
import { runbookFrom } from './test-helpers';

const RUNBOOK = runbookFrom(`apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: node-not-ready }
spec:
  goal: Restore scheduling capacity.
  inputs:
    cluster: { type: string, default: prod-eu }
    node: { type: string, required: true }
    incident_id: { type: string }
  steps:
    - id: ack
      tool: pagerduty.acknowledge_incident
      if: 'has(inputs.incident_id)'
      with: { incident_id: '\${{ inputs.incident_id }}' }
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}' }
    - id: drain
      tool: k8s.drain_node
      if: 'steps.cordon.status == "succeeded"'
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }} drained' }
`);

const ALL = new Set(toolIds());
const vars = { inputs: { cluster: 'prod-eu', node: 'node-7' }, context: {}, run: { id: 'run_1', runbook: 'node-not-ready', mode: 'execute' } };
const ctx = (allowed: ReadonlySet<string> = ALL) => ({ runbook: RUNBOOK, allowed, vars });

const rb = (id: string, tool: string, reason = `do ${id}`) => ({ id, tool, args_json: '{}', reason, from_runbook_step: id });
const add = (id: string, tool: string, args: Record<string, unknown> | string, reason = 'diagnose') => ({
  id,
  tool,
  args_json: typeof args === 'string' ? args : JSON.stringify(args),
  reason,
});
const full = (...extra: WirePlan['steps']): WirePlan => ({
  steps: [rb('ack', 'pagerduty.acknowledge_incident'), rb('cordon', 'k8s.cordon_node'), ...extra, rb('drain', 'k8s.drain_node'), rb('ticket', 'jira.create_issue')],
});

describe('plan validation', () => {
  it('keeps the runbook steps with their templated arguments', () => {
    const plan = validatePlan(full(), ctx());
    expect(plan.hallucinations).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual(['ack', 'cordon', 'drain', 'ticket']);
    expect(plan.steps[1]).toEqual({ id: 'cordon', tool: 'k8s.cordon_node', args: { cluster: '${{ inputs.cluster }}', node: '${{ inputs.node }}' }, reason: 'do cordon', from_runbook_step: 'cordon' });
  });

  it('takes a read-only diagnostic step from the allowed tools, where the model put it', () => {
    const plan = validatePlan(full(add('check-node', 'k8s.get_node', { cluster: 'prod-eu', node: 'node-7' }, 'See the node before draining')), ctx());
    expect(plan.hallucinations).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual(['ack', 'cordon', 'check-node', 'drain', 'ticket']);
    expect(plan.steps[2]).toEqual({ id: 'check-node', tool: 'k8s.get_node', args: { cluster: 'prod-eu', node: 'node-7' }, reason: 'See the node before draining' });
  });

  it('records an unknown tool as a hallucination and never plans it', () => {
    const plan = validatePlan(full(add('wipe', 'k8s.delete_namespace', { cluster: 'prod-eu', namespace: 'default' }), add('peek', 'k8s.get_nodee', {})), ctx());
    expect(plan.steps.map((s) => s.tool)).not.toContain('k8s.delete_namespace');
    expect(plan.steps).toHaveLength(4);
    expect(plan.hallucinations).toEqual([
      { kind: 'unknown_tool', step_id: 'wipe', tool: 'k8s.delete_namespace', reason: 'Unknown tool "k8s.delete_namespace"' },
      { kind: 'unknown_tool', step_id: 'peek', tool: 'k8s.get_nodee', reason: 'Unknown tool "k8s.get_nodee"; did you mean "k8s.get_node"?' },
    ]);
  });

  it('refuses a tool the policy does not allow this actor, even a read-only one', () => {
    const allowed = new Set(['pagerduty.acknowledge_incident', 'k8s.cordon_node', 'k8s.drain_node', 'jira.create_issue', 'k8s.get_node']);
    const plan = validatePlan(full(add('logs', 'k8s.get_pod_logs', { cluster: 'prod-eu', namespace: 'kube-system', pod: 'kubelet' })), ctx(allowed));
    expect(plan.steps.map((s) => s.id)).not.toContain('logs');
    expect(plan.hallucinations).toEqual([expect.objectContaining({ kind: 'tool_not_allowed', step_id: 'logs', tool: 'k8s.get_pod_logs' })]);
  });

  it('refuses a mutating "diagnostic" step even when the tool is allowed', () => {
    const plan = validatePlan(full(add('restart', 'k8s.restart_deployment', { cluster: 'prod-eu', namespace: 'web', name: 'api' })), ctx());
    expect(plan.steps.map((s) => s.id)).not.toContain('restart');
    expect(plan.hallucinations).toEqual([expect.objectContaining({ kind: 'mutating_addition', tool: 'k8s.restart_deployment' })]);
  });

  it('refuses arguments that fail the tool schema, are not an object, or carry templates', () => {
    const plan = validatePlan(
      full(
        add('a', 'k8s.get_node', { cluster: 'prod-eu' }),
        add('b', 'k8s.get_node', '[1,2]'),
        add('c', 'k8s.get_node', '{not json'),
        add('d', 'k8s.get_node', { cluster: 'prod-eu', node: '${{ context.secret }}' }),
        add('e', 'k8s.get_node', { cluster: 'prod-eu', node: 'n1', force: true }),
      ),
      ctx(),
    );
    expect(plan.steps).toHaveLength(4);
    expect(plan.hallucinations.map((h) => [h.step_id, h.kind])).toEqual([['a', 'invalid_args'], ['b', 'invalid_args'], ['c', 'invalid_args'], ['d', 'invalid_args'], ['e', 'invalid_args']]);
    expect(plan.hallucinations[0]!.reason).toContain('node');
    expect(plan.hallucinations[3]!.reason).toContain('templates');
  });

  it('keeps the runbook tool when the model swaps it, and restores the step', () => {
    const plan = validatePlan({ steps: [rb('ack', 'pagerduty.acknowledge_incident'), rb('cordon', 'k8s.cordon_node'), rb('drain', 'k8s.scale_deployment'), rb('ticket', 'jira.create_issue')] }, ctx());
    expect(plan.steps.find((s) => s.id === 'drain')!.tool).toBe('k8s.drain_node');
    expect(plan.hallucinations.map((h) => h.kind)).toEqual(['runbook_mismatch', 'omitted_step']);
  });

  it('skips a left-out step whose condition is already false, and restores one that may still run', () => {
    const plan = validatePlan({ steps: [rb('cordon', 'k8s.cordon_node'), rb('ticket', 'jira.create_issue')] }, ctx());
    // ack: has(inputs.incident_id) is false before the run; drain depends on a later result.
    expect(plan.skipped).toEqual([{ id: 'ack', reason: 'Condition is false: has(inputs.incident_id)' }]);
    expect(plan.steps.map((s) => s.id)).toEqual(['cordon', 'drain', 'ticket']);
    expect(plan.hallucinations).toEqual([expect.objectContaining({ kind: 'omitted_step', step_id: 'drain' })]);
  });

  it('keeps the runbook order and runs a repeated step once', () => {
    const plan = validatePlan({ steps: [rb('ticket', 'jira.create_issue'), rb('ack', 'pagerduty.acknowledge_incident'), rb('cordon', 'k8s.cordon_node'), rb('cordon', 'k8s.cordon_node'), rb('drain', 'k8s.drain_node')] }, ctx());
    expect(plan.steps.map((s) => s.id)).toEqual(['ack', 'cordon', 'drain', 'ticket']);
    expect(plan.hallucinations.map((h) => [h.kind, h.step_id])).toEqual([['duplicate_step', 'cordon'], ['reordered_step', 'ack']]);
    expect(plan.hallucinations[1]!.reason).toContain('ticket, ack, cordon, drain');
  });

  it('refuses ids that clash, ids that are not step ids, invented runbook steps and too many additions', () => {
    const extra = [
      add('cordon2', 'k8s.get_node', { cluster: 'c', node: 'n' }),
      add('cordon2', 'k8s.get_node', { cluster: 'c', node: 'n' }),
      add('Bad Id', 'k8s.get_node', { cluster: 'c', node: 'n' }),
      { ...add('ghost', 'k8s.get_node', { cluster: 'c', node: 'n' }), from_runbook_step: 'ghost' },
      ...['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => add(id, 'k8s.get_node', { cluster: 'c', node: 'n' })),
    ];
    const plan = validatePlan(full(...extra), ctx());
    expect(plan.steps.map((s) => s.id)).toEqual(['ack', 'cordon', 'cordon2', 'd1', 'd2', 'd3', 'd4', 'drain', 'ticket']);
    expect(plan.hallucinations.map((h) => [h.step_id, h.kind])).toEqual([
      ['cordon2', 'duplicate_step'],
      ['Bad Id', 'duplicate_step'],
      ['ghost', 'runbook_mismatch'],
      ['d5', 'too_many_additions'],
    ]);
  });

  it('puts additions after the last runbook step at the end', () => {
    const plan = validatePlan({ steps: [...full().steps, add('after', 'k8s.get_node', { cluster: 'c', node: 'n' })] }, ctx());
    expect(plan.steps.map((s) => s.id)).toEqual(['ack', 'cordon', 'drain', 'ticket', 'after']);
  });

  it('the stub plan is the runbook itself', () => {
    const plan = validatePlan(runbookPlan(RUNBOOK), ctx());
    expect(plan.hallucinations).toEqual([]);
    expect(plan.skipped).toEqual([]);
    expect(plan.steps).toEqual(RUNBOOK.spec.steps.map((s) => ({ id: s.id, tool: s.tool, args: s.with, reason: 'Runbook step', from_runbook_step: s.id })));
  });

  it('gives the engine a step spec: the runbook step itself, or a run-once step that only informs', () => {
    const plan = validatePlan(full(add('check-node', 'k8s.get_node', { cluster: 'prod-eu', node: 'node-7' }, 'See the node')), ctx());
    expect(stepSpec(plan.steps[1]!, RUNBOOK)).toBe(RUNBOOK.spec.steps[1]);
    expect(stepSpec(plan.steps[2]!, RUNBOOK)).toEqual({
      id: 'check-node', tool: 'k8s.get_node', description: 'See the node', with: { cluster: 'prod-eu', node: 'node-7' }, retry: { attempts: 1, backoff_ms: 0 }, on_failure: 'continue',
    });
  });
});
