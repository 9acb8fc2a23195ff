// Bundles the relay into dist/main.js. The relay's own sources and the catalog's k8s tool
// definitions it imports from ../worker/tools are bundled (so the relay validates with exactly
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
