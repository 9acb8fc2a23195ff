import { describe, expect, it } from 'vitest';
import { align, type ActualStep, type ExpectedStep } from './align';
import { SCORING, catalogWeight, scoreAlignment } from './score';

const CORDON: ExpectedStep = { tool: 'k8s.cordon_node', args: { cluster: 'prod-eu', node: 'node-7' } };
const DRAIN: ExpectedStep = { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'node-7' } };
const TICKET: ExpectedStep = { tool: 'jira.create_issue', args: { project: 'OPS' } };
const EXPECTED = [CORDON, DRAIN, TICKET];

let n = 0;
const step = (e: ExpectedStep, args = e.args ?? {}): ActualStep => ({ id: `s${++n}`, tool: e.tool, args: { ...args } });
const score = (actual: ActualStep[], expected = EXPECTED) => scoreAlignment(align(expected, actual));

describe('scoreAlignment', () => {
  it('scores the expected plan 1 and exact', () => {
    expect(score(EXPECTED.map((e) => step(e)))).toMatchObject({ score: 1, exact: true, summary: { expected: 3, actual: 3, matched: 3 } });
  });

  it('gives a missed step no credit', () => {
    expect(score([step(CORDON), step(TICKET)])).toMatchObject({ score: 0.6667, exact: false, summary: { missed: 1 } });
  });

  it('gives a reordered step half credit', () => {
    // drain, cordon, ticket: two in order, cordon out of order → (1 + 0.5 + 1) / 3.
    expect(score([step(DRAIN), step(CORDON), step(TICKET)])).toMatchObject({ score: 0.8333, exact: false, summary: { reordered: 1 } });
    expect(SCORING.reorder_factor).toBe(0.5);
  });

  it('charges an unexpected change a full step, an unexpected read a quarter', () => {
    const all = EXPECTED.map((e) => step(e));
    const scale = step({ tool: 'k8s.scale_deployment', args: { cluster: 'prod-eu', namespace: 'p', name: 'api', replicas: 0 } });
    const read = step({ tool: 'k8s.get_node', args: { cluster: 'prod-eu', node: 'node-7' } });
    expect(score([...all, scale]).score).toBe(0.75); // 3 / (3 + 1)
    expect(score([read, ...all]).score).toBe(0.9231); // 3 / (3 + 0.25)
    expect(catalogWeight('k8s.get_node')).toBe(0.25);
    expect(catalogWeight('k8s.scale_deployment')).toBe(1);
    expect(catalogWeight('k8s.made_up_tool')).toBe(1);
  });

  it('credits changed arguments by their similarity', () => {
    const r = score([step(CORDON), step(DRAIN, { cluster: 'prod-eu', node: 'node-8' }), step(TICKET)]);
    expect(r.exact).toBe(false);
    expect(r.summary.changed).toBe(1);
    expect(r.score).toBeGreaterThan(2 / 3);
    expect(r.score).toBeLessThan(1);
  });

  it('scores doing nothing when nothing was expected as 1, and anything else as 0', () => {
    expect(score([], [])).toMatchObject({ score: 1, exact: true });
    expect(score([step(CORDON)], []).score).toBe(0);
  });

  it('lets the caller waive the cost of extra steps', () => {
    const read = step({ tool: 'k8s.get_node', args: { cluster: 'prod-eu', node: 'node-7' } });
    expect(scoreAlignment(align([], [read]), () => 0)).toMatchObject({ score: 1, exact: false });
  });

  it('stays within 0 and 1 whatever the plans', () => {
    const plans: ActualStep[][] = [[], [step(TICKET)], [step(TICKET), step(TICKET), step(CORDON)], EXPECTED.map((e) => step(e)).reverse()];
    for (const p of plans) {
      const s = score(p).score;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });
});
