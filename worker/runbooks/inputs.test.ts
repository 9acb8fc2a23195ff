import { describe, expect, it } from 'vitest';
import { resolveInputs } from './inputs';
import type { RunbookInput } from './types';

const runbook = {
  spec: {
    inputs: {
      cluster: { type: 'string', required: false, default: 'prod-eu' },
      node: { type: 'string', required: true },
      incident_id: { type: 'string', required: false },
      replicas: { type: 'integer', required: false, default: 2, enum: [1, 2, 4] },
      ratio: { type: 'number', required: false },
      dry: { type: 'boolean', required: false },
      labels: { type: 'array', required: false },
    } satisfies Record<string, RunbookInput>,
    triggers: [],
    steps: [],
  },
};

describe('resolveInputs', () => {
  it('applies defaults and leaves absent optional inputs absent', () => {
    expect(resolveInputs(runbook, { node: 'n1' })).toEqual({ ok: true, inputs: { cluster: 'prod-eu', node: 'n1', replicas: 2 } });
  });

  it('treats null as not given', () => {
    expect(resolveInputs(runbook, { node: 'n1', incident_id: null })).toEqual({ ok: true, inputs: { cluster: 'prod-eu', node: 'n1', replicas: 2 } });
  });

  it('names a missing required input', () => {
    expect(resolveInputs(runbook, {})).toEqual({ ok: false, errors: [{ path: 'inputs.node', message: 'input "node" is required' }] });
  });

  it('rejects unknown inputs with a suggestion', () => {
    expect(resolveInputs(runbook, { node: 'n1', clustr: 'x' })).toEqual({
      ok: false,
      errors: [{ path: 'inputs.clustr', message: 'unknown input "clustr"; did you mean "cluster"?' }],
    });
  });

  it('coerces numeric strings for number and integer inputs, and "true"/"false" for booleans', () => {
    const result = resolveInputs(runbook, { node: 'n1', replicas: '4', ratio: ' 0.5 ', dry: 'false' });
    expect(result).toEqual({ ok: true, inputs: { cluster: 'prod-eu', node: 'n1', replicas: 4, ratio: 0.5, dry: false } });
  });

  it('does not coerce anything else', () => {
    const result = resolveInputs(runbook, { node: 42, replicas: '2.5', dry: 'yes', labels: 'a,b' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      { path: 'inputs.node', message: 'input "node": expected a string, got number 42' },
      { path: 'inputs.replicas', message: 'input "replicas": expected an integer, got number 2.5' },
      { path: 'inputs.dry', message: 'input "dry": expected a boolean, got string "yes"' },
      { path: 'inputs.labels', message: 'input "labels": expected an array, got string "a,b"' },
    ]);
  });

  it('enforces enums', () => {
    const result = resolveInputs(runbook, { node: 'n1', replicas: 3 });
    expect(!result.ok && result.errors).toEqual([{ path: 'inputs.replicas', message: 'input "replicas": must be one of 1, 2, 4' }]);
  });
});
