// `npm test`: every test of the project, in the order that fails fastest.
//   1. type checks (Worker, Node-side tests, e2e)   4. the UI's unit tests
//   2. the UI build (the Worker's assets)           5. the Worker bundle builds (wrangler deploy --dry-run)
//   3. unit tests (Node) and Worker tests (workerd) 6. end-to-end tests: wrangler dev + Debian Chromium
//                                                      (SKIP_E2E=1 leaves them out locally)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT } from './lib.mjs';

const phases = [
  ['Type check', 'npm', ['run', '--silent', 'typecheck']],
  ['Build the UI (web/build, served as the Worker\'s assets)', 'npm', ['run', '--silent', 'build:web']],
  ['Unit and Worker tests', 'npx', ['vitest', 'run']],
  ['UI unit tests', 'npx', ['vitest', 'run'], { cwd: `${ROOT}/web` }],
  ['Evaluation suite (stub provider, gate)', 'node', ['scripts/eval.mjs', '--fail-on-regression', '--quiet']],
  ['Worker bundle (wrangler deploy --dry-run)', 'npx', ['wrangler', 'deploy', '--dry-run', '--outdir', '.wrangler/dist']],
  ['End-to-end tests (wrangler dev + Chromium)', 'npx', ['vitest', 'run', '-c', 'vitest.e2e.config.ts']],
];

if (process.env.SKIP_E2E === '1') phases.pop();
else if (!existsSync('/usr/bin/chromium') && !process.env.CHROMIUM_PATH) {
  console.error('End-to-end tests need Chromium: apt-get install -y chromium (or set CHROMIUM_PATH, or SKIP_E2E=1 to leave them out).');
  process.exit(1);
}

const started = Date.now();
for (const [name, cmd, args, opts = {}] of phases) {
  console.log(`\n\x1b[1m━━ ${name}\x1b[0m`);
  const t0 = Date.now();
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', AGENTRUNBOOK_WEB_BUILT: '1' }, ...opts });
  if (res.status !== 0) {
    console.error(`\n✗ ${name} failed (exit ${res.status ?? res.signal})`);
    process.exit(res.status || 1);
  }
  console.log(`✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\nAll test phases passed in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
