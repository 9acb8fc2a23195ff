// Bundles the relay into dist/main.js: its own sources and the contract it shares with the
// platform (contract/: the protocol and the k8s tool schemas, so the relay validates with exactly
// the schemas the platform publishes); npm packages stay external and come from node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'info',
});
