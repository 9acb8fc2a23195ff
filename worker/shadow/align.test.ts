import { describe, expect, it } from 'vitest';
import { align, type ActualStep, type ExpectedStep } from './align';

// Hand-made plans: the node runbook as a person would run it (DESIGN §2), and agents' variations.
const CORDON: ExpectedStep = { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } };
const DRAIN: ExpectedStep = { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } };
const TICKET: ExpectedStep = { tool: 'jira.create_issue', args: { project: 'OPS' } };
const EXPECTED = [CORDON, DRAIN, TICKET];

let n = 0;
const step = (e: ExpectedStep, over: Partial<ActualStep> = {}): ActualStep => ({ id: `s${++n}`, tool: e.tool, args: { ...e.args }, status: 'simulated', ...over });
const kinds = (rows: ReturnType<typeof align>) => rows.map((r) => [r.kind, r.expected?.tool ?? null, r.actual?.tool ?? null]);

describe('align', () => {
  it('matches the same calls in the same order', () => {
    const rows = align(EXPECTED, EXPECTED.map((e) => step(e)));
    expect(rows.map((r) => r.kind)).toEqual(['matched', 'matched', 'matched']);
    expect(rows.map((r) => [r.expected?.index, r.actual?.index])).toEqual([[0, 0], [1, 1], [2, 2]]);
  });

  it('pairs by tool and arguments, never by step id', () => {
    // The agent named its steps after the wrong things; what they do is what counts.
    const rows = align(EXPECTED, [step(CORDON, { id: 'ticket' }), step(DRAIN, { id: 'cordon' }), step(TICKET, { id: 'drain' })]);
    expect(rows.map((r) => r.kind)).toEqual(['matched', 'matched', 'matched']);
  });

  it('reports a call made out of order as reordered', () => {
    // Draining before cordoning lets pods land back on the node.
    const rows = align(EXPECTED, [step(DRAIN), step(CORDON), step(TICKET)]);
    expect(kinds(rows)).toEqual([
      ['matched', 'k8s.drain_node', 'k8s.drain_node'],
      ['reordered', 'k8s.cordon_node', 'k8s.cordon_node'],
      ['matched', 'jira.create_issue', 'jira.create_issue'],
    ]);
  });

  it('reports a call the agent left out as missed, where it was expected', () => {
    const rows = align(EXPECTED, [step(CORDON), step(TICKET)]);
    expect(kinds(rows)).toEqual([
      ['matched', 'k8s.cordon_node', 'k8s.cordon_node'],
      ['missed', 'k8s.drain_node', null],
      ['matched', 'jira.create_issue', 'jira.create_issue'],
    ]);
  });

  it('reports a call nobody expected as extra, where the agent made it', () => {
    const rows = align(EXPECTED, [step(CORDON), step({ tool: 'k8s.scale_deployment', args: { cluster: 'prod-eu', namespace: 'payments', name: 'api', replicas: 0 } }), step(DRAIN), step(TICKET)]);
    expect(kinds(rows)).toEqual([
      ['matched', 'k8s.cordon_node', 'k8s.cordon_node'],
      ['extra', null, 'k8s.scale_deployment'],
      ['matched', 'k8s.drain_node', 'k8s.drain_node'],
      ['matched', 'jira.create_issue', 'jira.create_issue'],
    ]);
  });

  it('reports the same tool with other arguments as changed, with each differing field', () => {
    const rows = align(EXPECTED, [step(CORDON), step(DRAIN, { args: { cluster: 'prod-eu', node: 'node-8' } }), step(TICKET)]);
    expect(rows[1]).toMatchObject({
      kind: 'changed',
      differences: [{ path: 'node', kind: 'changed', expected: 'node-7', actual: 'node-8' }],
    });
    expect(rows[1]!.similarity).toBeLessThan(1);
  });

  it('pairs repeated tools by the closest arguments', () => {
    const first: ExpectedStep = { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-1' } };
    const second: ExpectedStep = { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-2' } };
    // Only node-2 was cordoned: it is node-2's expectation that is met, node-1's that is missed.
    const rows = align([first, second], [step(second)]);
    expect(rows.map((r) => [r.kind, r.expected?.args?.node])).toEqual([
      ['missed', 'node-1'],
      ['matched', 'node-2'],
    ]);
  });

  it('handles everything at once: reorder, missing, extra and changed arguments', () => {
    const rows = align(EXPECTED, [
      step(TICKET),
      step({ tool: 'k8s.get_node', args: { cluster: 'prod-eu', node: 'node-7' } }),
      step(CORDON, { args: { cluster: 'prod-us', node: 'node-7' } }),
    ]);
    // Only one of ticket and cordon can keep the expected order; the exact ticket outweighs the
    // cordon of the wrong cluster, so the cordon is the one out of order (with its difference).
    expect(kinds(rows)).toEqual([
      ['missed', 'k8s.drain_node', null],
      ['matched', 'jira.create_issue', 'jira.create_issue'],
      ['extra', null, 'k8s.get_node'],
      ['reordered', 'k8s.cordon_node', 'k8s.cordon_node'],
    ]);
    expect(rows[3]!.differences).toEqual([{ path: 'cluster', kind: 'changed', expected: 'prod-eu', actual: 'prod-us' }]);
  });

  it('aligns empty plans', () => {
    expect(align([], [])).toEqual([]);
    expect(align([], [step(CORDON)]).map((r) => r.kind)).toEqual(['extra']);
    expect(align([CORDON], []).map((r) => r.kind)).toEqual(['missed']);
  });
});
