import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineTooDeep, MAX_YAML_DEPTH } from './depth';
import { parseYamlWithLines } from './parse';

const nestedBlock = (levels: number) => Array.from({ length: levels }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' end\n';

describe('YAML nesting depth', () => {
  it('counts flow collections, block mappings and sequence entries', () => {
    expect(lineTooDeep(`a: ${'['.repeat(MAX_YAML_DEPTH - 1)}${']'.repeat(MAX_YAML_DEPTH - 1)}`)).toBeUndefined();
    expect(lineTooDeep(`a: ${'['.repeat(MAX_YAML_DEPTH)}`)).toBe(1);
    expect(lineTooDeep(nestedBlock(MAX_YAML_DEPTH))).toBeUndefined();
    expect(lineTooDeep(nestedBlock(MAX_YAML_DEPTH + 1))).toBe(MAX_YAML_DEPTH + 1);
    expect(lineTooDeep(`a:\n  ${'- '.repeat(MAX_YAML_DEPTH + 1)}x\n`)).toBe(2);
    expect(lineTooDeep(`a:\n${Array.from({ length: 70 }, (_, i) => `${' '.repeat(i + 2)}- {x: [1]}`).join('\n')}`)).toBeDefined();
  });

  it('ignores brackets inside quotes, comments and block scalars, and indented prose', () => {
    const brackets = '['.repeat(100);
    expect(lineTooDeep(`a: '${brackets}'\nb: "${brackets} \\" ["\nc: 1 # ${brackets}\nd: it's [fine]\n`)).toBeUndefined();
    const prose = Array.from({ length: 100 }, (_, i) => ' '.repeat(i + 2) + `line ${i} ${brackets}`).join('\n');
    expect(lineTooDeep(`description: |\n${prose}\nnext: 1\n`)).toBeUndefined();
    expect(lineTooDeep(`- >-\n${prose}\n`)).toBeUndefined();
  });

  it('passes every shipped runbook and policy', () => {
    for (const dir of ['runbooks', 'policies']) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
        const text = readFileSync(path.join(dir, file), 'utf8');
        expect(lineTooDeep(text, 12), `${dir}/${file}`).toBeUndefined();
      }
    }
  });

  it('refuses a hostile document at once, naming the line, before the parser recurses', () => {
    const t0 = performance.now();
    const parsed = parseYamlWithLines(`a: ${'['.repeat(200_000)}${']'.repeat(200_000)}`.slice(0, 250_000));
    expect(parsed.errors).toEqual([{ path: '', line: 1, message: `document nests deeper than ${MAX_YAML_DEPTH} levels` }]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
