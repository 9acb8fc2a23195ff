// The in-process phases of `npm run bench`: the TypeScript benchmarks (they import the Worker's
// own code) are bundled with esbuild and run in this Node process, no platform involved.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib.mjs';
import { round } from './stats.mjs';

export const DECIDE_GOAL = { p50_us: 20, p99_us: 200 };
export const AUDIT_VERIFY_GOAL = { min_entries_per_s: 150_000 };

async function load(name) {
  const { build } = await import('esbuild');
  const out = path.join(ROOT, 'node_modules', '.cache', 'agentrunbook-bench', `${name}.mjs`);
  await build({ entryPoints: [path.join(ROOT, 'scripts', 'bench', `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
  return import(`${out}?t=${Date.now()}`);
}

/** The offline audit verifier (scripts/bench/audit-verify.ts) on a generated, signed export. */
export async function auditVerifyPhase(entries) {
  const { benchAuditVerify } = await load('audit-verify');
  const r = await benchAuditVerify(entries);
  return { ...r, goal: { ...AUDIT_VERIFY_GOAL, met: r.ok && r.entries_per_s >= AUDIT_VERIFY_GOAL.min_entries_per_s } };
}

/** decide() under policies/default.yaml (scripts/bench/decide.ts). */
export async function decidePhase(samples) {
  const { benchDecide } = await load('decide');
  const r = benchDecide(readFileSync(path.join(ROOT, 'policies', 'default.yaml'), 'utf8'), samples);
  const round3 = (x) => round(x, 3);
  return {
    policy: 'policies/default.yaml',
    ...r,
    p50_us: round3(r.p50_us),
    p99_us: round3(r.p99_us),
    mean_us: round3(r.mean_us),
    goal: { ...DECIDE_GOAL, met: r.p50_us <= DECIDE_GOAL.p50_us && r.p99_us <= DECIDE_GOAL.p99_us },
  };
}
