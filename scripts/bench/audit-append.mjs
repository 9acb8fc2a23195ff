// The audit writer's own append rate, apart from the runs that feed it: `npm run bench` runs
// test/audit-throughput.test.ts in the Workers test pool (workerd, the tenant's real audit object,
// local D1) and reads the line it prints. Under the platform's load the append rate follows the runs
// (each run appends its own events), so that figure alone cannot show what the writer sustains.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../lib.mjs';

/** The goal of issue 17: ten times the 174 entries/s the audit log appended on this machine before. */
export const AUDIT_APPEND_GOAL = { min_entries_per_s: 1_740, before_entries_per_s: 174 };
const MARK = 'audit-append-bench ';

export function auditAppendPhase() {
  const vitest = path.join(ROOT, 'node_modules', '.bin', 'vitest');
  const r = spawnSync(vitest, ['run', '--project', 'workers', 'test/audit-throughput.test.ts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(MARK));
  if (r.status !== 0 || !line) throw new Error(`test/audit-throughput.test.ts failed (exit ${r.status}):\n${(r.stdout ?? '').slice(-3000)}${r.stderr ?? ''}`);
  const result = JSON.parse(line.slice(MARK.length));
  return { ...result, goal: { ...AUDIT_APPEND_GOAL, met: result.median_entries_per_s >= AUDIT_APPEND_GOAL.min_entries_per_s } };
}
