/// <reference types="vitest/config" />
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { firstLoadBudget } from './scripts/first-load-budget.mjs';

export default defineConfig({
  // The build prints the first page's JavaScript (gzipped) and fails over the 200 KB budget.
  plugins: [sveltekit(), firstLoadBudget()],
  // The bundler's plugin-timing report is noise in `npm start` output.
  build: { rolldownOptions: { checks: { pluginTimings: false } } },
  server: {
    // `vite dev` serves the UI alone; the API and its WebSockets come from `npm start` (wrangler
    // dev on :8787), so the browser still sees one origin and the session cookie just works.
    proxy: { '/api': { target: 'http://localhost:8787', ws: true } },
  },
  test: {
    // Pure modules only (live socket, run state, form reading, charts' scales); components are left
    // to the browser tests.
    include: ['src/**/*.test.ts', 'scripts/**/*.test.mjs'],
    environment: 'node',
  },
});
