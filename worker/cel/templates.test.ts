import { describe, expect, it } from 'vitest';
import { CelError } from './error';
import { referencedSteps, resolveTemplates, templateExpressions, templateSites } from './templates';

const vars = {
  inputs: { node: 'node-1', pr: 42, labels: ['a', 'b'] },
  steps: { drain: { result: { evicted: 3 } } },
  run: { id: 'run_1' },
};

describe('resolveTemplates', () => {
  it('a string that is exactly one template keeps the value type', () => {
    expect(resolveTemplates('${{ inputs.pr }}', vars)).toBe(42);
    expect(resolveTemplates(' ${{ inputs.labels }} ', vars)).toEqual(['a', 'b']);
    expect(resolveTemplates('${{ inputs.pr > 40 }}', vars)).toBe(true);
  });

  it('a template inside text is interpolated as text', () => {
    expect(resolveTemplates('Run ${{ run.id }}: ${{ steps.drain.result.evicted }} pods evicted.', vars)).toBe(
      'Run run_1: 3 pods evicted.',
    );
    expect(resolveTemplates('labels=${{ inputs.labels }}', vars)).toBe('labels=["a","b"]');
  });

  it('walks objects and arrays and leaves other values alone', () => {
    const value = { number: '${{ inputs.pr }}', nested: ['x', '${{ inputs.node }}', 7, null, false], plain: 'text' };
    expect(resolveTemplates(value, vars)).toEqual({ number: 42, nested: ['x', 'node-1', 7, null, false], plain: 'text' });
  });

  it('throws CelError on an unterminated template', () => {
    expect(() => resolveTemplates('${{ inputs.node', vars)).toThrow(CelError);
  });
});

describe('templateExpressions and templateSites', () => {
  it('lists expressions with their paths and compile errors', () => {
    const value = { a: 'x ${{ inputs.node }} y ${{ run.id }}', b: ['${{ 1 + }}'], c: '${{ open' };
    expect(templateExpressions(value)).toEqual(['inputs.node', 'run.id', '1 +']);
    const sites = templateSites(value);
    expect(sites.map((s) => [s.path, s.expr, s.error !== undefined])).toEqual([
      [['a'], 'inputs.node', false],
      [['a'], 'run.id', false],
      [['b', 0], '1 +', true],
      [['c'], '${{ open', true],
    ]);
  });
});

describe('referencedSteps', () => {
  it('finds steps.<id> and steps["<id>"] but not string literals or loop variables', () => {
    expect(referencedSteps('steps.drain.result.evicted > 0 && steps["tidy-up"].result.ok')).toEqual(['drain', 'tidy-up']);
    expect(referencedSteps('"steps.fake" == inputs.x')).toEqual([]);
    expect(referencedSteps('[1].exists(steps, steps.foo == 1)')).toEqual([]);
    expect(referencedSteps('has(steps.ack)')).toEqual(['ack']);
  });
});
