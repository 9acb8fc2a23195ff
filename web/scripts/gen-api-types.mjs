#!/usr/bin/env node
// Writes web/src/lib/api-types.ts from the API's OpenAPI document.
//
//   node web/scripts/gen-api-types.mjs            regenerate from the Worker's code (no server needed)
//   node web/scripts/gen-api-types.mjs --check    exit 1 when the committed file is stale
//   node web/scripts/gen-api-types.mjs --url http://localhost:8787   use a running server's document
//
// Without --url the Worker's Hono app is loaded in Node through Vite's SSR module loader (the same
// TypeScript the Worker runs; YAML imports read as text, `cloudflare:*` modules stubbed: building the
// document touches no binding), and asked for /api/v1/openapi.json. Nothing is started or listened on.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './openapi-to-ts.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TARGET = path.join(ROOT, 'web', 'src', 'lib', 'api-types.ts');

/** The OpenAPI document, from the Worker's code. */
export async function documentFromCode() {
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: false,
    root: ROOT,
    logLevel: 'error',
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
    plugins: [
      {
        name: 'worker-modules-in-node',
        enforce: 'pre',
        resolveId: (id) => (id.startsWith('cloudflare:') ? `\0${id}` : undefined),
        load(id) {
          if (id.startsWith('\0cloudflare:')) return 'export class DurableObject {}\nexport class WorkerEntrypoint {}\nexport const env = {};\n';
          // wrangler.toml's Text rule: YAML files are imported as their text.
          if (id.endsWith('.yaml')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
          return undefined;
        },
      },
    ],
  });
  try {
    const { buildApp } = await server.ssrLoadModule('/worker/app.ts');
    const res = await buildApp().request('/api/v1/openapi.json', {}, {});
    if (!res.ok) throw new Error(`/api/v1/openapi.json answered ${res.status}`);
    return await res.json();
  } finally {
    await server.close();
  }
}

export async function documentFromUrl(url) {
  const res = await fetch(new URL('/api/v1/openapi.json', url));
  if (!res.ok) throw new Error(`${url}/api/v1/openapi.json answered ${res.status}`);
  return res.json();
}

async function main(argv) {
  const check = argv.includes('--check');
  const urlAt = argv.indexOf('--url');
  const doc = urlAt >= 0 ? await documentFromUrl(argv[urlAt + 1]) : await documentFromCode();
  const text = generate(doc);
  const rel = path.relative(process.cwd(), TARGET);
  if (check) {
    let current = '';
    try {
      current = readFileSync(TARGET, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      console.error(`${rel} is out of date with the API's OpenAPI document: run node web/scripts/gen-api-types.mjs`);
      process.exit(1);
    }
    console.log(`${rel} is up to date (${Object.keys(doc.paths ?? {}).length} paths)`);
    return;
  }
  writeFileSync(TARGET, text);
  console.log(`wrote ${rel} (${Object.keys(doc.paths ?? {}).length} paths, ${Object.keys(doc.components?.schemas ?? {}).length} schemas)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
