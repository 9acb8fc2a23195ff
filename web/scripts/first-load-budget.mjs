// A Vite plugin that measures what the browser downloads to show the first page (the dashboard):
// SvelteKit's start and app entries, the root and (app) layouts, the dashboard page, and every chunk
// they import statically — not the chunks loaded later (other pages, the editor). It prints the
// gzipped JavaScript size on every `vite build` and fails the build when it exceeds the budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** The budget: at most 200 KB of JavaScript, gzipped, for the UI's first load. */
export const FIRST_LOAD_BUDGET_BYTES = 200_000;

/** Route files whose nodes the first page needs (the dashboard is `(app)/+page`). */
const FIRST_PAGE_ROUTE_FILES = [/src\/routes\/\+layout\.(svelte|ts|js)$/, /src\/routes\/\+error\.svelte$/, /src\/routes\/\(app\)\/\+layout\.(svelte|ts|js)$/, /src\/routes\/\(app\)\/\+page\.(svelte|ts|js)$/];

/** @param {{ budget?: number }} [options] */
export function firstLoadBudget(options = {}) {
  const budget = options.budget ?? FIRST_LOAD_BUDGET_BYTES;
  return {
    name: 'agentrunbook:first-load-budget',
    apply: 'build',
    /** @param {import('vite').Environment} env */
    applyToEnvironment: (env) => env.config.consumer === 'client',
    /** @this {{ error(message: string): never }} @param {unknown} _options @param {Record<string, any>} bundle */
    generateBundle(_options, bundle) {
      /** @type {any[]} */
      const chunks = Object.values(bundle).filter((f) => f.type === 'chunk');
      // SvelteKit's client build: SSR builds have no `entry/start` and are not measured.
      if (!chunks.some((c) => c.isEntry && c.name === 'entry/start')) return;
      const roots = chunks.filter((c) => c.isEntry && (c.name === 'entry/start' || c.name === 'entry/app' || (c.name.startsWith('nodes/') && nodeServesFirstPage(c))));
      const byName = new Map(chunks.map((c) => [c.fileName, c]));
      const needed = new Set();
      /** @type {(c: any) => void} */
      const visit = (c) => {
        if (needed.has(c.fileName)) return;
        needed.add(c.fileName);
        for (const dep of c.imports) {
          const d = byName.get(dep);
          if (d) visit(d);
        }
      };
      roots.forEach(visit);

      const files = [...needed].map((name) => {
        const code = byName.get(name).code;
        return { name, raw: Buffer.byteLength(code), gzip: gzipSync(code).length };
      });
      files.sort((a, b) => b.gzip - a.gzip);
      const total = files.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
      const kb = (/** @type {number} */ n) => `${(n / 1000).toFixed(1)} kB`;
      const lines = [
        '',
        `First load (dashboard): ${files.length} JS files, ${kb(total.raw)} raw, ${kb(total.gzip)} gzipped — budget ${kb(budget)} gzipped`,
        ...files.slice(0, 8).map((f) => `  ${kb(f.gzip).padStart(9)}  ${f.name}`),
        ...(files.length > 8 ? [`  … and ${files.length - 8} smaller files`] : []),
        '',
      ];
      console.log(lines.join('\n'));
      if (total.gzip > budget) {
        this.error(`The UI's first load is ${kb(total.gzip)} of JavaScript gzipped, over the ${kb(budget)} budget: lazy-load what the dashboard does not need.`);
      }
    },
  };
}

/** Whether a node chunk is one of the first page's: its generated module names the route files. @param {{ facadeModuleId?: string | null }} chunk */
function nodeServesFirstPage(chunk) {
  if (!chunk.facadeModuleId) return false;
  let source;
  try {
    source = readFileSync(chunk.facadeModuleId, 'utf8');
  } catch {
    return false;
  }
  const files = [...source.matchAll(/from\s+["']([^"']+)["']/g)].map((m) => m[1] ?? '');
  return files.some((f) => FIRST_PAGE_ROUTE_FILES.some((re) => re.test(f)));
}
