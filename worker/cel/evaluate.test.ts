import { describe, expect, it } from 'vitest';
import { CelError } from './error';
import { compileCel, celCacheSize, clearCelCache } from './compile';
import { evalCel, evalCondition } from './evaluate';

const vars = {
  inputs: { node: 'node-1', replicas: 3, ratio: 0.5 },
  steps: { drain: { result: { evicted: 3, pods: ['a', 'b'] } } },
  run: { id: 'run_1' },
  context: { environment: 'prod' },
};

describe('evalCel', () => {
  it('treats integral JSON numbers as CEL ints', () => {
    expect(evalCondition('steps.drain.result.evicted == 3', vars)).toBe(true);
    expect(evalCondition('inputs.replicas > 2', vars)).toBe(true);
    expect(evalCel('inputs.replicas + 1', vars)).toBe(4);
  });

  it('keeps fractional numbers as doubles and compares across int and double', () => {
    expect(evalCel('inputs.ratio * 2.0', vars)).toBe(1);
    expect(evalCondition('inputs.replicas > 2.5', vars)).toBe(true);
  });

  it('returns plain JSON for lists and maps', () => {
    expect(evalCel('{"n": size(steps.drain.result.pods), "l": steps.drain.result.pods}', vars)).toEqual({ n: 2, l: ['a', 'b'] });
  });

  it('returns timestamps as ISO strings', () => {
    expect(evalCel('timestamp("2024-05-01T10:00:00Z")', {})).toBe('2024-05-01T10:00:00.000Z');
  });

  it('has() is false for an absent optional input and true for a given one', () => {
    expect(evalCondition('has(inputs.incident_id)', vars)).toBe(false);
    expect(evalCondition('has(inputs.incident_id)', { inputs: { incident_id: 'P1' } })).toBe(true);
    // `undefined` members are absent, not null.
    expect(evalCondition('has(inputs.incident_id)', { inputs: { incident_id: undefined } })).toBe(false);
  });

  it('has the strings extension', () => {
    expect(evalCel('inputs.node.upperAscii()', vars)).toBe('NODE-1');
    expect(evalCel('"a,b".split(",")', {})).toEqual(['a', 'b']);
  });

  it('supports macros over event payloads', () => {
    const event = { alerts: [{ labels: { alertname: 'KubeNodeNotReady', node: 'n-7' } }] };
    expect(evalCondition('event.alerts.exists(a, a.labels.alertname == "KubeNodeNotReady")', { event })).toBe(true);
    expect(evalCel('event.alerts[0].labels.node', { event })).toBe('n-7');
  });

  it('a missing key is a CelError that names the key and where', () => {
    const run = () => evalCel('steps.drain.result.missing == 1', vars);
    expect(run).toThrow(CelError);
    expect(run).toThrow('no such key "missing" at `steps.drain.result.missing` in `steps.drain.result.missing == 1`');
  });

  it('a type mismatch is a CelError', () => {
    expect(() => evalCel('inputs.node + 1', vars)).toThrow(/no matching overload/);
  });

  it('an unknown variable is a CelError', () => {
    expect(() => evalCel('input.node == "x"', vars)).toThrow('unknown variable "input"');
  });

  it('a syntax error is a CelError with the column', () => {
    expect(() => evalCel('inputs.node ==', vars)).toThrow(/syntax error at column/);
  });

  it('loop variables are not mistaken for free variables', () => {
    expect(evalCondition('[1, 2].all(x, x > 0)', {})).toBe(true);
  });
});

describe('evalCondition', () => {
  it('rejects non-bool results', () => {
    expect(() => evalCondition('inputs.node', vars)).toThrow('condition must evaluate to true or false, got string "node-1"');
  });
});

describe('compileCel', () => {
  it('caches by expression text', () => {
    clearCelCache();
    const first = compileCel('1 + 1 == 2');
    expect(compileCel('1 + 1 == 2')).toBe(first);
    expect(celCacheSize()).toBe(1);
  });

  it('caps the cache', () => {
    clearCelCache();
    for (let i = 0; i < 1100; i++) compileCel(`${i} == ${i}`);
    expect(celCacheSize()).toBe(1000);
  });

  it('reports parse problems as messages', () => {
    expect(compileCel('a +')).toMatchObject({ ok: false });
    expect(compileCel('')).toEqual({ ok: false, error: 'expression is empty' });
    expect(compileCel('frobnicate(1)')).toEqual({ ok: false, error: 'unknown function "frobnicate"' });
    expect(compileCel('has(inputs)')).toMatchObject({ ok: false, error: expect.stringContaining('field selection') });
  });
});
