import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { getTool } from '../tools/catalog';
import { decide, type Decision } from './decide';
import { factsFor, unknownTarget } from './facts';
import { policySchema, type Policy } from './schema';
import { MAX_LISTED_CHANGES, simulatePolicy, type RecordedRun, type RecordedStep } from './simulate';

const policyOf = (rules: string) =>
  policySchema.parse(
    parse(`apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: sim }
spec:
  roles:
    operator: { run: true, tools: ["k8s.get_*", "jira.*"] }
    sre: { run: true, approve: true, tools: ["*"] }
    admin: { run: true, approve: true, tools: ["*"] }
  rules:
${rules}`),
  );

const LENIENT = policyOf('    []\n');
const STRICT = policyOf(`    - name: prod-writes-two-sres
      when: 'has(context.environment) && context.environment == "prod" && tool.mutating'
      effect: require_approval
      approval: { roles: [sre], count: 2, distinct_from_requester: true }
    - name: no-drains
      when: 'tool.id == "k8s.drain_node"'
      effect: deny
`);

/** A step as the engine would have recorded it under `policy`. */
function step(policy: Policy, run: Omit<RecordedRun, 'steps'>, id: string, toolId: string, args: Record<string, unknown>, stepRequiresApproval = false): RecordedStep {
  const tool = getTool(toolId)!;
  const decision = decide(policy, {
    tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
    args,
    actor: { type: run.actor.type, id: run.actor.id, role: run.actor.role! },
    context: run.context,
    facts: factsFor(unknownTarget(toolId, args), {}, Date.now()),
    run: { id: run.id, runbook: run.runbook, mode: run.mode },
    stepRequiresApproval,
  });
  return { id, tool: toolId, args, decision };
}

function recordedRun(id: string, context: Record<string, unknown>, role = 'sre', policy: Policy = LENIENT): RecordedRun {
  const base = { id, runbook: 'node-not-ready', mode: 'dry_run', context, actor: { type: 'api_key', id: 'key_1', role } };
  const node = { cluster: 'prod-eu', node: 'node-1' };
  return {
    ...base,
    steps: [
      step(policy, base, 'look', 'k8s.get_node', node),
      step(policy, base, 'cordon', 'k8s.cordon_node', node),
      step(policy, base, 'drain', 'k8s.drain_node', node),
    ],
  };
}

describe('simulatePolicy', () => {
  it('replays a step on the facts its decision recorded; a step recorded without them on the facts given today', () => {
    const onLabels = policySchema.parse(
      parse(`apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: on-labels }
spec:
  roles: { sre: { run: true, approve: true, tools: ["*"] } }
  rules:
    - name: prod-by-label
      when: 'tool.mutating && has(target.labels.environment) && target.labels.environment == "prod"'
      effect: require_approval
      approval: { roles: [sre] }
`),
    );
    const base = { id: 'run_f', runbook: 'node-not-ready', mode: 'dry_run', context: {}, actor: { type: 'api_key', id: 'key_1', role: 'sre' } };
    const args = { cluster: 'prod-eu', node: 'node-1' };
    const prodFacts = factsFor({ kind: 'cluster', name: 'prod-eu', registered: true, live: true, labels: { environment: 'prod' } }, {}, Date.now());
    const recorded = step(LENIENT, base, 'cordon', 'k8s.cordon_node', args);
    const withFacts = { ...recorded, id: 'recorded', decision: { ...(recorded.decision as object), facts: prodFacts } };
    const withoutFacts = { ...recorded, id: 'today', facts: prodFacts };
    const unknown = { ...recorded, id: 'unknown' };
    const result = simulatePolicy(onLabels, [{ ...base, steps: [withFacts, withoutFacts, unknown] }]);
    expect(result.changed.map((c) => [c.step_id, `${c.before.effect}→${c.after.effect}`])).toEqual([
      ['recorded', 'allow→require_approval'],
      ['today', 'allow→require_approval'],
    ]);
  });

  it('the policy a run was decided under changes nothing', () => {
    const runs = [recordedRun('run_a', { environment: 'prod' }), recordedRun('run_b', {})];
    expect(simulatePolicy(LENIENT, runs)).toEqual({ runs_considered: 2, steps_considered: 6, steps_skipped: 0, changed: [], truncated: false, summary: {} });
  });

  it('a stricter draft lists each flipped decision with before and after, naming the draft rule', () => {
    const result = simulatePolicy(STRICT, [recordedRun('run_prod', { environment: 'prod' }), recordedRun('run_stg', { environment: 'staging' })]);
    expect(result.summary).toEqual({ 'allow→require_approval': 1, 'allow→deny': 2 });
    expect(result.changed.map((c) => [c.run_id, c.step_id, `${c.before.effect}→${c.after.effect}`])).toEqual([
      ['run_prod', 'cordon', 'allow→require_approval'],
      ['run_prod', 'drain', 'allow→deny'],
      ['run_stg', 'drain', 'allow→deny'],
    ]);
    const cordon = result.changed[0]!;
    expect(cordon).toMatchObject({ runbook: 'node-not-ready', tool: 'k8s.cordon_node', before: { effect: 'allow', reasons: [{ kind: 'role', name: 'sre' }] } });
    expect(cordon.after.reasons.map((r) => r.name)).toContain('prod-writes-two-sres');
    expect(cordon.after.approval).toEqual({ roles: ['sre'], count: 2, distinct_from_requester: true });
    expect(result.changed[1]!.after.reasons.filter((r) => r.effect === 'deny').map((r) => r.name)).toEqual(['no-drains']);
  });

  it('a looser draft shows the opposite transitions', () => {
    const result = simulatePolicy(LENIENT, [recordedRun('run_prod', { environment: 'prod' }, 'sre', STRICT)]);
    expect(result.summary).toEqual({ 'require_approval→allow': 1, 'deny→allow': 1 });
  });

  it('replays with the recorded role: an operator run is judged as an operator', () => {
    expect(simulatePolicy(LENIENT, [recordedRun('run_op', {}, 'operator')]).changed).toEqual([]);
    const draft = policyOf('    []\n');
    draft.spec.roles.operator!.tools = ['jira.*'];
    const tighter = simulatePolicy(draft, [recordedRun('run_op', {}, 'operator')]);
    expect(tighter.changed.map((c) => [c.step_id, c.before.effect, c.after.effect])).toEqual([['look', 'allow', 'deny']]);
  });

  it('an approval asked of other people is a change even when the effect stays require_approval', () => {
    const oneApprover = policyOf(`    - name: prod-writes
      when: 'has(context.environment) && context.environment == "prod" && tool.mutating'
      effect: require_approval
      approval: { roles: [sre, admin], count: 1, distinct_from_requester: false }
`);
    const run = recordedRun('run_prod', { environment: 'prod' }, 'sre', oneApprover);
    const result = simulatePolicy(STRICT, [run]);
    expect(result.summary).toEqual({ 'require_approval→require_approval': 1, 'require_approval→deny': 1 });
    const cordon = result.changed.find((c) => c.step_id === 'cordon')!;
    expect(cordon.before.approval).toEqual({ roles: ['sre', 'admin'], count: 1, distinct_from_requester: false });
    expect(cordon.after.approval).toEqual({ roles: ['sre'], count: 2, distinct_from_requester: true });
    expect(simulatePolicy(oneApprover, [run]).changed).toEqual([]);
  });

  it('keeps the runbook\'s own approval requirement: a step that asked for one still asks', () => {
    const base = { id: 'run_x', runbook: 'rb', mode: 'execute', context: {}, actor: { type: 'api_key', id: 'key_1', role: 'sre' } };
    const run: RecordedRun = { ...base, steps: [step(LENIENT, base, 'drain', 'k8s.cordon_node', { cluster: 'c', node: 'n' }, true)] };
    expect(simulatePolicy(LENIENT, [run]).changed).toEqual([]);
  });

  it('skips and counts steps it cannot replay', () => {
    const run = recordedRun('run_a', {});
    run.steps.push(
      { id: 'pending', tool: 'k8s.cordon_node', args: null, decision: null },
      { id: 'no-decision', tool: 'k8s.cordon_node', args: { cluster: 'c', node: 'n' }, decision: null },
      { id: 'garbled', tool: 'k8s.cordon_node', args: { cluster: 'c', node: 'n' }, decision: { effect: 'maybe' } },
      { id: 'retired', tool: 'k8s.delete_cluster', args: {}, decision: run.steps[0]!.decision },
    );
    const noRole: RecordedRun = { ...recordedRun('run_b', {}), actor: { type: 'api_key', id: 'key_1', role: null } };
    const result = simulatePolicy(STRICT, [run, noRole]);
    expect(result).toMatchObject({ runs_considered: 2, steps_considered: 3, steps_skipped: 7 });
  });

  it('compares on roles and rules: a budget or limit denial at the time is not a policy change', () => {
    const run = recordedRun('run_a', {});
    const drain = run.steps[2]!;
    const recorded = drain.decision as Decision;
    drain.decision = { ...recorded, effect: 'deny', reasons: [...recorded.reasons, { kind: 'limit', name: 'node-capacity', effect: 'deny', message: 'Blast-radius limit reached' }] };
    expect(simulatePolicy(LENIENT, [run]).changed).toEqual([]);

    // A limit denial over a decision that asked for approval: no recorded approvers to compare.
    const prod = recordedRun('run_b', { environment: 'prod' }, 'sre', STRICT);
    const cordon = prod.steps[1]!;
    const asked = cordon.decision as Decision;
    expect(asked.effect).toBe('require_approval');
    cordon.decision = { effect: 'deny', reasons: [...asked.reasons, { kind: 'limit', name: 'node-capacity', effect: 'deny', message: 'full' }] };
    expect(simulatePolicy(STRICT, [prod]).changed).toEqual([]);
  });

  it('lists at most MAX_LISTED_CHANGES changes but counts them all', () => {
    const runs = Array.from({ length: MAX_LISTED_CHANGES + 10 }, (_, i) => recordedRun(`run_${i}`, { environment: 'staging' }));
    const result = simulatePolicy(STRICT, runs);
    expect(result.changed).toHaveLength(MAX_LISTED_CHANGES);
    expect(result.truncated).toBe(true);
    expect(result.summary).toEqual({ 'allow→deny': MAX_LISTED_CHANGES + 10 });
  });
});
