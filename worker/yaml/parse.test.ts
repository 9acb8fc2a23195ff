import { describe, expect, it } from 'vitest';
import { MAX_YAML_BYTES, parseYamlWithLines } from './parse';

const TEXT = `kind: Runbook
metadata:
  name: demo
spec:
  steps:
    - id: one
      tool: core.wait
    - id: two
      with: { duration: 5s }
`;

describe('parseYamlWithLines', () => {
  it('returns plain values', () => {
    const parsed = parseYamlWithLines(TEXT);
    expect(parsed.errors).toEqual([]);
    expect(parsed.value).toMatchObject({ metadata: { name: 'demo' }, spec: { steps: [{ id: 'one' }, { id: 'two' }] } });
  });

  it('locates keys, sequence items and flow-map members', () => {
    const { lineOf } = parseYamlWithLines(TEXT);
    expect(lineOf([])).toBe(1);
    expect(lineOf(['metadata', 'name'])).toBe(3);
    expect(lineOf(['spec', 'steps'])).toBe(5);
    expect(lineOf(['spec', 'steps', 1])).toBe(8);
    expect(lineOf(['spec', 'steps', 0, 'tool'])).toBe(7);
    expect(lineOf(['spec', 'steps', 1, 'with', 'duration'])).toBe(9);
  });

  it('falls back to the closest node that exists', () => {
    const { lineOf } = parseYamlWithLines(TEXT);
    expect(lineOf(['spec', 'steps', 1, 'tool'])).toBe(8);
    expect(lineOf(['spec', 'steps', 7, 'id'])).toBe(5);
    expect(lineOf(['metadata', 'name', 'deeper'])).toBe(3);
  });

  it('reports syntax errors with their line', () => {
    const { errors, value } = parseYamlWithLines('a: 1\nb: [1, 2\nc: 3\n');
    expect(value).toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('reports duplicate keys', () => {
    const { errors } = parseYamlWithLines('a: 1\nb: 2\na: 3\n');
    expect(errors).toEqual([{ path: '', line: 3, message: expect.stringContaining('unique') }]);
  });

  it('rejects more than one document', () => {
    const { errors } = parseYamlWithLines('a: 1\n---\nb: 2\n');
    expect(errors).toEqual([{ path: '', line: 2, message: expect.stringContaining('single YAML document') }]);
  });

  it('rejects a root that is not a mapping, and an empty document', () => {
    expect(parseYamlWithLines('- a\n- b\n').errors).toEqual([{ path: '', line: 1, message: 'document must be a mapping of keys to values' }]);
    expect(parseYamlWithLines('"text"').errors[0]?.message).toBe('document must be a mapping of keys to values');
    expect(parseYamlWithLines('# only a comment\n').errors[0]?.message).toBe('document is empty');
  });

  it('rejects oversized input before parsing it', () => {
    const { errors } = parseYamlWithLines(`a: "${'x'.repeat(MAX_YAML_BYTES)}"`);
    expect(errors[0]?.message).toMatch(/too large/);
  });

  it('refuses alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]'];
    expect(parseYamlWithLines(bomb.join('\n')).errors[0]?.message).toMatch(/alias/i);
  });

  it('parses JSON too', () => {
    const parsed = parseYamlWithLines('{\n  "a": {\n    "b": [1, 2]\n  }\n}');
    expect(parsed.value).toEqual({ a: { b: [1, 2] } });
    expect(parsed.lineOf(['a', 'b', 1])).toBe(3);
  });
});
