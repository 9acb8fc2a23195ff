import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const APP = path.join(import.meta.dirname, '(app)');

function loaders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? loaders(path.join(dir, e.name)) : /^\+(page|layout)\.ts$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

describe('pages that need a session', () => {
  it('every load under (app) that calls the API waits for the session check first (no 401 for a signed-out visitor)', () => {
    const root = path.join(APP, '+layout.ts');
    const calling = loaders(APP).filter((f) => f !== root && readFileSync(f, 'utf8').includes('createClient('));
    expect(calling.length).toBeGreaterThan(10);
    const unguarded = calling.filter((f) => !/await parent\(\)/.test(readFileSync(f, 'utf8'))).map((f) => path.relative(APP, f));
    expect(unguarded).toEqual([]);
  });
});
