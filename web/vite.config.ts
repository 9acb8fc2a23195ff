/// <reference types="vitest/config" />
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  // The bundler's plugin-timing report is noise in `npm start` output.
  build: { rolldownOptions: { checks: { pluginTimings: false } } },
  server: {
    // `vite dev` serves the UI alone; the API and its WebSockets come from `npm start` (wrangler
    // dev on :8787), so the browser still sees one origin and the session cookie just works.
    proxy: { '/api': { target: 'http://localhost:8787', ws: true } },
  },
  test: {
    // Pure modules only (live socket, run state, form reading); components are left to browser tests.
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
