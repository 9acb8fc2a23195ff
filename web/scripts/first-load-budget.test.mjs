// The build's first-load budget: which chunks count (the dashboard's closure of static imports,
// not lazily loaded pages), and that the build fails over the budget.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { firstLoadBudget } from './first-load-budget.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'budget-'));
function node(n, routeFile) {
  const file = path.join(dir, `${n}.js`);
  writeFileSync(file, `export { default as component } from "../../../src/routes/${routeFile}";\n`);
  return file;
}

/** A client bundle: start and app entries, the dashboard's nodes, and an editor page loaded later. */
function bundle(size) {
  const chunk = (fileName, extra) => ({ type: 'chunk', fileName, name: fileName, isEntry: false, imports: [], code: 'x'.repeat(10), ...extra });
  return {
    start: chunk('start.js', { isEntry: true, name: 'entry/start', imports: ['shared.js'] }),
    app: chunk('app.js', { isEntry: true, name: 'entry/app' }),
    root: chunk('nodes/0.js', { isEntry: true, name: 'nodes/0', facadeModuleId: node(0, '+layout.svelte') }),
    dash: chunk('nodes/2.js', { isEntry: true, name: 'nodes/2', facadeModuleId: node(2, '(app)/+page.svelte'), imports: ['charts.js'] }),
    editor: chunk('nodes/9.js', { isEntry: true, name: 'nodes/9', facadeModuleId: node(9, '(app)/policies/new/+page.svelte'), imports: ['editor.js'] }),
    shared: chunk('shared.js'),
    charts: chunk('charts.js', { code: randomText(size) }),
    lazy: chunk('editor.js', { code: randomText(500_000) }),
  };
}

/** Text that gzip cannot shrink much (random base64), so sizes are predictable. */
const randomText = (n) => randomBytes(Math.ceil((n * 3) / 4)).toString('base64').slice(0, n);

function build(budget, b) {
  const plugin = firstLoadBudget({ budget });
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const ctx = { error: (m) => { throw new Error(m); } };
  try {
    plugin.generateBundle.call(ctx, {}, b);
    return String(log.mock.calls.flat().join('\n'));
  } finally {
    log.mockRestore();
  }
}

describe('first-load budget', () => {
  it('counts the dashboard\'s chunks and their static imports, not a lazily loaded page', () => {
    const out = build(200_000, bundle(1000));
    expect(out).toMatch(/First load \(dashboard\): 6 JS files/);
    expect(out).toContain('charts.js');
    expect(out).not.toContain('editor.js');
  });

  it('fails the build over the budget, naming the size', () => {
    expect(() => build(50_000, bundle(100_000))).toThrow(/over the 50\.0 kB budget/);
  });

  it('measures nothing in a build without SvelteKit\'s client entry (the server build)', () => {
    const b = bundle(1000);
    delete b.start;
    expect(build(1, b)).toBe('');
  });
});
