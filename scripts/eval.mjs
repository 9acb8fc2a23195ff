// `npm run eval` (options: `npm run eval -- --help`): the agents' evaluation suite, in this process.
// Bundles evals/src/cli.ts — TypeScript that imports the Worker's own run engine, policy, tool
// catalog and agents — with esbuild (as scripts/bench.mjs does for the policy benchmark), then runs
// the cases of evals/cases/ and writes JSON, Markdown and HTML reports to evals/reports/.
import path from 'node:path';
import { ROOT } from './lib.mjs';

const { build } = await import('esbuild');
const out = path.join(ROOT, 'node_modules', '.cache', 'agentrunbook-eval', 'cli.mjs');
await build({
  entryPoints: [path.join(ROOT, 'evals', 'src', 'cli.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: out,
  logLevel: 'error',
});
const { main } = await import(`${out}?t=${Date.now()}`);
const { exitCode } = await main(process.argv.slice(2), ROOT);
process.exitCode = exitCode;
