import { describe, expect, it } from 'vitest';
import { compareArgs } from './args';

describe('compareArgs', () => {
  it('accepts any arguments when the expected step names none', () => {
    expect(compareArgs(undefined, { node: 'node-7' })).toEqual({ similarity: 1, differences: [] });
  });

  it('compares only the fields the expected step names, unless strict', () => {
    const actual = { cluster: 'prod-eu', node: 'node-7', grace_period_seconds: 30 };
    expect(compareArgs({ node: 'node-7' }, actual)).toEqual({ similarity: 1, differences: [] });
    const strict = compareArgs({ cluster: 'prod-eu', node: 'node-7' }, actual, { strict: true });
    expect(strict.differences).toEqual([{ path: 'grace_period_seconds', kind: 'added', actual: 30 }]);
    expect(strict.similarity).toBeCloseTo(2 / 3, 4);
  });

  it('names each differing field with both values', () => {
    const r = compareArgs({ cluster: 'prod-eu', node: 'node-7' }, { cluster: 'prod-eu', node: 'node-8' });
    expect(r.differences).toEqual([{ path: 'node', kind: 'changed', expected: 'node-7', actual: 'node-8' }]);
    expect(r.similarity).toBeGreaterThan(0.5);
    expect(r.similarity).toBeLessThan(1);
  });

  it('reports a field the agent left out as missing', () => {
    const r = compareArgs({ project: 'OPS', summary: 'Node drained' }, { project: 'OPS' });
    expect(r.differences).toEqual([{ path: 'summary', kind: 'missing', expected: 'Node drained' }]);
    expect(r.similarity).toBe(0.5);
  });

  it('gives numbers partial credit by how close they are', () => {
    expect(compareArgs({ replicas: 6 }, { replicas: 5 }).similarity).toBeCloseTo(0.8333, 3);
    expect(compareArgs({ replicas: 6 }, { replicas: 0 }).similarity).toBe(0);
  });

  it('treats arrays as multisets (order ignored) and reports a differing one whole', () => {
    expect(compareArgs({ labels: ['incident', 'triage'] }, { labels: ['triage', 'incident'] })).toEqual({ similarity: 1, differences: [] });
    const r = compareArgs({ labels: ['a', 'b'] }, { labels: ['a', 'c'] });
    expect(r.differences).toEqual([{ path: 'labels', kind: 'changed', expected: ['a', 'b'], actual: ['a', 'c'] }]);
    expect(r.similarity).toBeCloseTo(1 / 3, 4);
  });

  it('walks nested objects and names the nested path', () => {
    const r = compareArgs({ spec: { replicas: 3, paused: false } }, { spec: { replicas: 3, paused: true } });
    expect(r.differences).toEqual([{ path: 'spec.paused', kind: 'changed', expected: false, actual: true }]);
    expect(r.similarity).toBe(0.5);
  });

  it('scores the right value in the wrong type almost as equal, and still reports it', () => {
    const r = compareArgs({ number: 42 }, { number: '42' });
    expect(r.similarity).toBe(0.9);
    expect(r.differences).toHaveLength(1);
  });

  it('compares strings by the words they share, never as well as equal ones', () => {
    const close = compareArgs({ summary: 'Node node-7 drained' }, { summary: 'Drained node node-7' }).similarity;
    const far = compareArgs({ summary: 'Node node-7 drained' }, { summary: 'Rolled back checkout' }).similarity;
    expect(close).toBeGreaterThan(far);
    expect(close).toBeLessThanOrEqual(0.9);
    expect(far).toBe(0);
  });

  it('compares an agent step without arguments as empty', () => {
    expect(compareArgs({ node: 'node-7' }, null)).toEqual({ similarity: 0, differences: [{ path: 'node', kind: 'missing', expected: 'node-7' }] });
  });
});
