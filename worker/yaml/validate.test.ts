import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath } from './path';
import { validateWithSchema } from './validate';

// A schema unrelated to runbooks: the validator is shared with policies and must stay generic.
const schema = z.strictObject({
  name: z.string().regex(/^[a-z]+$/, 'must be lowercase letters'),
  limits: z.array(z.strictObject({ tools: z.array(z.string()).min(1), max: z.number().int().positive() })),
  labels: z.record(z.string().regex(/^[a-z]+$/, 'lowercase only'), z.string()).default({}),
});

describe('validateWithSchema', () => {
  it('returns the parsed value', () => {
    const result = validateWithSchema('name: abc\nlimits: []\n', schema);
    expect(result.ok && result.value).toEqual({ name: 'abc', limits: [], labels: {} });
  });

  it('maps each issue to a path and the line of the closest node, sorted by line', () => {
    const text = ['name: ABC', 'limits:', '  - tools: [k8s.*]', '    max: 0', '  - tools: []', '    mx: 2', 'labels: { Team: x }'].join('\n');
    const result = validateWithSchema(text, schema);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      { path: 'name', line: 1, message: 'must be lowercase letters' },
      { path: 'limits[0].max', line: 4, message: 'Too small: expected number to be >0' },
      { path: 'limits[1].tools', line: 5, message: 'Too small: expected array to have >=1 items' },
      { path: 'limits[1].max', line: 5, message: 'required field is missing' },
      { path: 'limits[1].mx', line: 6, message: 'unknown field "mx"; did you mean "max"?' },
      { path: 'labels.Team', line: 7, message: 'invalid name "Team": lowercase only' },
    ]);
  });

  it('passes YAML errors through', () => {
    const result = validateWithSchema('name: [', schema);
    expect(!result.ok && result.errors[0]?.line).toBe(1);
  });
});

describe('formatPath', () => {
  it('uses dots for keys, brackets for indices and quotes odd keys', () => {
    expect(formatPath(['spec', 'steps', 2, 'tool'])).toBe('spec.steps[2].tool');
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath([])).toBe('');
  });
});
