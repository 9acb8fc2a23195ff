import { describe, expect, it } from 'vitest';
import { defaultText, fieldErrors, readContext, readExpected, readInputs } from './run-inputs';
import type { RunbookInput } from './types';

const specs: Record<string, RunbookInput> = {
  node: { type: 'string', required: true },
  cluster: { type: 'string', default: 'prod-eu' },
  incident_id: { type: 'string' },
  replicas: { type: 'integer' },
  force: { type: 'boolean' },
  urgency: { type: 'string', enum: ['high', 'low'] },
  tags: { type: 'array' },
};

function form(values: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(values)) data.set(`input.${k}`, v);
  return data;
}

describe('readInputs', () => {
  it('converts each input to its type and leaves empty optional ones out', () => {
    const { inputs, errors } = readInputs(specs, form({ node: 'n1', cluster: 'prod-eu', incident_id: '', replicas: '3', force: 'on', urgency: 'low', tags: '["a"]' }));
    expect(errors).toEqual({});
    expect(inputs).toEqual({ node: 'n1', cluster: 'prod-eu', replicas: 3, force: true, urgency: 'low', tags: ['a'] });
  });

  it('reads an unchecked box as false', () => {
    expect(readInputs({ force: { type: 'boolean' } }, form({})).inputs).toEqual({ force: false });
  });

  it('names the field of each problem', () => {
    const { errors } = readInputs(specs, form({ replicas: '1.5', tags: '{"a":1}' }));
    expect(errors).toEqual({
      'input.node': ['Required'],
      'input.replicas': ['Must be a whole number'],
      'input.tags': ['Must be a JSON array'],
    });
  });

  it('sends an enum value with its own type', () => {
    expect(readInputs({ size: { type: 'number', enum: [1, 3] } }, form({ size: '3' })).inputs).toEqual({ size: 3 });
  });
});

describe('readContext', () => {
  it('accepts empty and JSON objects only', () => {
    expect(readContext('  ')).toEqual({ context: {} });
    expect(readContext('{"environment":"prod"}')).toEqual({ context: { environment: 'prod' } });
    expect(readContext('[1]')).toHaveProperty('error');
    expect(readContext('{oops')).toHaveProperty('error');
  });
});

describe('fieldErrors', () => {
  it('puts server details beside their fields and keeps the rest', () => {
    const { byField, rest } = fieldErrors([
      { path: 'inputs.node', message: 'Required' },
      { path: 'inputs.tags[0]', message: 'Expected string' },
      { path: 'context.environment', message: 'Unknown environment' },
      { path: 'runbook', message: 'Runbook archived' },
    ]);
    expect(byField).toEqual({
      'input.node': ['Required'],
      'input.tags': ['Expected string'],
      context: ['Unknown environment'],
    });
    expect(rest).toEqual([{ path: 'runbook', message: 'Runbook archived' }]);
  });
});

describe('defaultText', () => {
  it('shows defaults as the user would type them', () => {
    expect(defaultText({ type: 'string', default: 'prod-eu' })).toBe('prod-eu');
    expect(defaultText({ type: 'object', default: { a: 1 } })).toBe('{\n  "a": 1\n}');
    expect(defaultText({ type: 'number' })).toBe('');
  });
});

describe('readExpected', () => {
  it('reads an expected plan for a shadow run, and nothing from an empty box', () => {
    expect(readExpected('')).toEqual({});
    expect(readExpected('[{"tool": "k8s.cordon_node", "args": {"node": "n1"}}, {"tool": "jira.create_issue"}]')).toEqual({
      expected: [{ tool: 'k8s.cordon_node', args: { node: 'n1' } }, { tool: 'jira.create_issue' }],
    });
  });

  it('refuses anything but an array of steps with a tool', () => {
    for (const text of ['{"tool": "x"}', '[{"args": {}}]', '[{"tool": "x", "args": [1]}]', 'not json']) expect(readExpected(text)).toHaveProperty('error');
  });

  it('places the server\'s problems with the plan on its box', () => {
    expect(fieldErrors([{ path: 'expected[0].tool', message: 'unknown tool' }]).byField).toEqual({ expected: ['unknown tool'] });
  });
});
