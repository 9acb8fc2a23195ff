import { describe, expect, it } from 'vitest';
import { evalCondition } from '../cel';
import { resolveInputs } from './inputs';
import { parseRunbook } from './parse';
import { resolveStepArgs, resolveVerifyArgs } from './tool-args';
import type { Runbook } from './types';

const TEXT = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: scale }
spec:
  inputs:
    cluster: { type: string, default: prod-eu }
    node: { type: string, required: true }
    incident_id: { type: string }
    replicas: { type: integer, default: 3 }
  steps:
    - id: ack
      tool: pagerduty.acknowledge_incident
      if: 'has(inputs.incident_id)'
      with: { incident_id: '\${{ inputs.incident_id }}' }
    - id: drain
      tool: k8s.drain_node
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}', grace_period_seconds: '\${{ inputs.replicas * 10 }}' }
      verify: { tool: k8s.get_node, expect: 'result.unschedulable' }
    - id: scale
      tool: k8s.scale_deployment
      with: { cluster: prod-eu, namespace: web, name: api, replicas: '\${{ steps.drain.result.evicted }}' }
`;

function load(): Runbook {
  const result = parseRunbook(TEXT);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.runbook;
}

describe('resolving a step at run time', () => {
  const runbook = load();
  const [ack, drain, scale] = runbook.spec.steps;
  const inputs = resolveInputs(runbook, { node: 'node-1' });
  if (!inputs.ok) throw new Error('inputs');
  const vars = { inputs: inputs.inputs, context: {}, run: { id: 'run_1' }, steps: { drain: { result: { evicted: 3 } } } };

  it('an optional input that was not given makes has() false', () => {
    expect(evalCondition(ack!.if!, vars)).toBe(false);
    expect(evalCondition(ack!.if!, { ...vars, inputs: { ...vars.inputs, incident_id: 'Q1' } })).toBe(true);
  });

  it('resolves templates with their types, then applies the tool schema', () => {
    expect(resolveStepArgs(drain!, vars)).toEqual({ ok: true, args: { cluster: 'prod-eu', node: 'node-1', grace_period_seconds: 30 } });
    expect(resolveStepArgs(scale!, vars)).toEqual({ ok: true, args: { cluster: 'prod-eu', namespace: 'web', name: 'api', replicas: 3 } });
  });

  it('names the argument whose resolved value does not fit', () => {
    const result = resolveStepArgs(scale!, { ...vars, steps: { drain: { result: { evicted: 'many' } } } });
    expect(result).toEqual({ ok: false, error: 'with.replicas: Invalid input: expected number, received string' });
  });

  it('names the argument whose expression fails', () => {
    const result = resolveStepArgs(scale!, { ...vars, steps: { drain: { result: {} } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^with\.replicas: no such key "evicted"/);
  });

  it('a verification without `with` borrows the arguments its tool accepts', () => {
    const args = { cluster: 'prod-eu', node: 'node-1', grace_period_seconds: 30 };
    expect(resolveVerifyArgs(drain!, args, vars)).toEqual({ ok: true, args: { cluster: 'prod-eu', node: 'node-1' } });
  });

  it('an unknown tool is an error, not an exception', () => {
    expect(resolveStepArgs({ tool: 'k8s.nope', with: {} }, vars)).toEqual({ ok: false, error: 'unknown tool "k8s.nope"' });
  });
});
