import { describe, expect, it } from 'vitest';
import { parseRunbook } from './parse';
import type { SourceError } from './types';

/** A valid runbook; tests break one line of it at a time, so line numbers below refer to this. */
const BASE = `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: node-not-ready
spec:
  inputs:
    cluster: { type: string, default: prod-eu }
    node: { type: string, required: true }
    incident_id: { type: string }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}' }
    - id: drain
      tool: k8s.drain_node
      with: { cluster: '\${{ inputs.cluster }}', node: '\${{ inputs.node }}' }
      verify: { tool: k8s.get_node, expect: 'result.unschedulable == true' }
    - id: ticket
      tool: jira.create_issue
      with:
        project: OPS
        summary: 'Node \${{ inputs.node }}: \${{ steps.drain.result.evicted }} pods evicted'
`;

/** Replaces line `n` (1-based) of BASE. */
function withLine(n: number, text: string): string {
  const lines = BASE.split('\n');
  lines[n - 1] = text;
  return lines.join('\n');
}

function errorsOf(text: string): SourceError[] {
  const result = parseRunbook(text);
  if (result.ok) throw new Error('expected validation errors');
  return result.errors;
}

describe('parseRunbook', () => {
  it('accepts the base runbook', () => {
    expect(parseRunbook(BASE).ok).toBe(true);
  });

  it('an unknown tool names the field and line and suggests the closest tool', () => {
    expect(errorsOf(withLine(15, '      tool: k8s.drian_node'))).toEqual([
      { path: 'spec.steps[1].tool', line: 15, message: 'unknown tool "k8s.drian_node"; did you mean "k8s.drain_node"?' },
    ]);
  });

  it('an unknown tool far from any other gets no suggestion', () => {
    expect(errorsOf(withLine(15, '      tool: acme.launch_rocket'))[0]?.message).toBe('unknown tool "acme.launch_rocket"');
  });

  it('a misspelt key is an error with a suggestion', () => {
    expect(errorsOf(withLine(16, "      wiht: { cluster: prod-eu, node: n1 }"))).toEqual([
      { path: 'spec.steps[1].wiht', line: 16, message: 'unknown field "wiht"; did you mean "with"?' },
    ]);
  });

  it('a duplicate step id points at the second one', () => {
    expect(errorsOf(withLine(18, '    - id: drain'))).toContainEqual({
      path: 'spec.steps[2].id',
      line: 18,
      message: 'duplicate step id "drain" (first used by spec.steps[1])',
    });
  });

  it('a reference to a step that runs later is rejected', () => {
    const text = withLine(13, "      with: { cluster: '${{ inputs.cluster }}', node: '${{ steps.ticket.result.key }}' }");
    expect(errorsOf(text)).toEqual([{ path: 'spec.steps[0].with.node', line: 13, message: 'references step "ticket" which runs later' }]);
  });

  it('a reference to an unknown step or its own result is rejected', () => {
    const text = withLine(12, "      tool: k8s.cordon_node\n      if: 'steps.drian.result.evicted > 0 && has(steps.cordon.result)'");
    expect(errorsOf(text)).toEqual([
      { path: 'spec.steps[0].if', line: 13, message: 'references unknown step "drian"; did you mean "drain"?' },
      { path: 'spec.steps[0].if', line: 13, message: 'references its own step "cordon", whose result exists only in verify' },
    ]);
  });

  it('a verification may read its own step', () => {
    const text = withLine(17, "      verify: { tool: k8s.get_node, expect: 'result.unschedulable == steps.drain.result.cordoned' }");
    expect(parseRunbook(text).ok).toBe(true);
  });

  it('a reference to an undeclared input is rejected', () => {
    expect(errorsOf(withLine(16, "      with: { cluster: '${{ inputs.cluster }}', node: '${{ inputs.nod }}' }"))).toEqual([
      { path: 'spec.steps[1].with.node', line: 16, message: 'references undeclared input "nod"; did you mean "node"?' },
    ]);
  });

  it('an unknown variable is rejected', () => {
    expect(errorsOf(withLine(16, "      with: { cluster: '${{ input.cluster }}', node: n1 }"))[0]).toEqual({
      path: 'spec.steps[1].with.cluster',
      line: 16,
      message: 'unknown variable "input"; did you mean "inputs"?; expressions here can use inputs, context, run, steps',
    });
  });

  it('an expression that does not compile is rejected where it is written', () => {
    const [error] = errorsOf(withLine(17, "      verify: { tool: k8s.get_node, expect: 'result.unschedulable ==' }"));
    expect(error).toMatchObject({ path: 'spec.steps[1].verify.expect', line: 17 });
    expect(error?.message).toMatch(/^invalid expression: syntax error at column/);
  });

  it('an unterminated template is rejected', () => {
    expect(errorsOf(withLine(22, "        summary: 'Node ${{ inputs.node'"))).toEqual([
      { path: 'spec.steps[2].with.summary', line: 22, message: 'invalid template: unterminated template: "${{" without a closing "}}"' },
    ]);
  });

  it('literal arguments are validated against the tool schema', () => {
    expect(errorsOf(withLine(16, '      with: { cluster: Prod_EU, node: n1, grace_period_seconds: soon }'))).toEqual([
      { path: 'spec.steps[1].with.cluster', line: 16, message: expect.stringContaining('cluster name') },
      { path: 'spec.steps[1].with.grace_period_seconds', line: 16, message: 'Invalid input: expected number, received string' },
    ]);
  });

  it('unknown argument names are rejected even next to templates; missing required ones too', () => {
    expect(errorsOf(withLine(16, "      with: { cluster: '${{ inputs.cluster }}', nodes: '${{ inputs.node }}' }"))).toEqual([
      { path: 'spec.steps[1].with.nodes', line: 16, message: 'unknown argument "nodes" for k8s.drain_node; did you mean "node"?' },
      { path: 'spec.steps[1].with.node', line: 16, message: 'missing required argument "node" for k8s.drain_node' },
      { path: 'spec.steps[1].verify', line: 17, message: 'k8s.get_node needs argument "node", which the step does not pass; set verify.with' },
    ]);
  });

  it('templated values are accepted whatever their eventual type', () => {
    expect(parseRunbook(withLine(16, "      with: { cluster: prod-eu, node: n1, grace_period_seconds: '${{ inputs.cluster }}' }")).ok).toBe(true);
  });

  it('a verification must use a read-only tool', () => {
    expect(errorsOf(withLine(17, "      verify: { tool: k8s.uncordon_node, expect: 'true' }"))).toEqual([
      { path: 'spec.steps[1].verify.tool', line: 17, message: 'k8s.uncordon_node changes state; a verification must use a read-only tool' },
    ]);
  });

  it('a default must match its input type', () => {
    expect(errorsOf(withLine(7, '    cluster: { type: integer, default: prod-eu }'))).toEqual([
      { path: 'spec.inputs.cluster.default', line: 7, message: 'default expected an integer, got string "prod-eu"' },
    ]);
  });

  it('a missing required field points at the enclosing item', () => {
    expect(errorsOf(withLine(15, '      description: no tool here'))).toEqual([
      { path: 'spec.steps[1].tool', line: 14, message: 'required field is missing' },
    ]);
  });

  it('schema errors name the field: bad names, retry bounds, durations, enums', () => {
    const text = BASE.replace('name: node-not-ready', 'name: Node_Not_Ready').replace(
      "      verify: { tool: k8s.get_node, expect: 'result.unschedulable == true' }",
      '      retry: { attempts: 11, backoff: soon }\n      timeout: 10\n      on_failure: explode',
    );
    expect(errorsOf(text).map((e) => [e.path, e.line])).toEqual([
      ['metadata.name', 4],
      ['spec.steps[1].retry.attempts', 17],
      ['spec.steps[1].retry.backoff', 17],
      ['spec.steps[1].timeout', 18],
      ['spec.steps[1].on_failure', 19],
    ]);
  });

  it('rejects the wrong apiVersion and kind', () => {
    const errors = errorsOf(BASE.replace('agentrunbook/v1', 'agentrunbook/v2').replace('kind: Runbook', 'kind: Policy'));
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['apiVersion', 1],
      ['kind', 2],
    ]);
  });

  it('trigger expressions read the event and map to declared inputs', () => {
    const trigger = `  triggers:
    - source: alertmanager
      when: 'event.alerts.exists(a, a.labels.alertname == "KubeNodeNotReady") && steps.x.ok'
      inputs: { nodes: 'event.alerts[0].labels.node' }
`;
    const text = BASE.replace('  steps:\n', `${trigger}  steps:\n`);
    expect(errorsOf(text)).toEqual([
      { path: 'spec.triggers[0].when', line: 12, message: 'unknown variable "steps"; expressions here can use event, context' },
      { path: 'spec.triggers[0].inputs.nodes', line: 13, message: 'unknown input "nodes"; did you mean "node"?' },
    ]);
  });

  it('YAML syntax errors carry their line', () => {
    const [error] = errorsOf(withLine(12, '      tool: [k8s.drain_node'));
    expect(error?.line).toBeGreaterThanOrEqual(12);
  });

  it('accepts JSON', () => {
    const json = JSON.stringify({
      apiVersion: 'agentrunbook/v1',
      kind: 'Runbook',
      metadata: { name: 'json-one' },
      spec: { steps: [{ id: 'wait', tool: 'core.wait', with: { duration: '5s' } }] },
    });
    const result = parseRunbook(json);
    expect(result.ok && result.runbook.spec.steps[0]).toEqual({
      id: 'wait',
      tool: 'core.wait',
      with: { duration: '5s' },
      retry: { attempts: 1, backoff_ms: 0 },
      on_failure: 'abort',
    });
  });
});
