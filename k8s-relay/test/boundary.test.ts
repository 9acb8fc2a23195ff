import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The relay and the Worker meet only in `k8s-relay/contract/`: the relay (its sources, tests and
 * the contract itself) imports nothing from the platform's folders, and the platform imports the
 * relay only through the contract. The relay image then needs no Worker code (k8s-relay/Dockerfile).
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs|js|svelte)$/.test(e.name) && !e.parentPath.includes('node_modules') && !e.parentPath.includes(`${path.sep}dist`))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Every relative import of `file`, resolved to a path from the repository's root. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)]
    .map((m) => m[1] ?? m[2]!)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), spec)));
}

// e2e/ is left out: it runs the relay's own process against the relay's fake API server.
const PLATFORM = ['worker', 'durable-objects', 'web/src', 'test', 'scripts', 'evals', 'policies'];

describe('the relay contract boundary', () => {
  it('the relay imports nothing outside k8s-relay/', () => {
    const crossing = ['k8s-relay/src', 'k8s-relay/contract', 'k8s-relay/test'].flatMap(sources).flatMap((f) =>
      importsOf(f)
        .filter((target) => !target.startsWith(`k8s-relay${path.sep}`))
        .map((target) => `${f} → ${target}`),
    );
    expect(crossing).toEqual([]);
  });

  it('the contract imports nothing of the relay beyond itself', () => {
    const crossing = sources('k8s-relay/contract').flatMap((f) =>
      importsOf(f)
        .filter((target) => !target.startsWith(`k8s-relay${path.sep}contract${path.sep}`))
        .map((target) => `${f} → ${target}`),
    );
    expect(crossing).toEqual([]);
  });

  it('the platform imports the relay only through its contract', () => {
    const crossing = PLATFORM.flatMap(sources).flatMap((f) =>
      importsOf(f)
        .filter((target) => target.startsWith(`k8s-relay${path.sep}`) && !target.startsWith(`k8s-relay${path.sep}contract${path.sep}`))
        .map((target) => `${f} → ${target}`),
    );
    expect(crossing).toEqual([]);
  });

  it('finds imports the way the checks above need (a fixture of each form)', () => {
    const forms = "import { a } from '../x';\nimport type { B } from \"./y\";\nexport { c } from '../../z';\nconst m = await import('./w');\nimport 'zod';";
    expect([...forms.matchAll(IMPORT)].map((m) => m[1] ?? m[2])).toEqual(['../x', './y', '../../z', './w']);
  });
});
