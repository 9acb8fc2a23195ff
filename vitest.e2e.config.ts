import { defineConfig } from 'vitest/config';

// End-to-end tests: real `wrangler dev` (started by e2e/global-setup.ts the way `npm start` does),
// real HTTP, WebSockets and a headless Chromium. Run with `npx vitest run -c vitest.e2e.config.ts`.
export default defineConfig({
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['e2e/**/*.test.ts'],
    globalSetup: ['./e2e/global-setup.ts'],
    // One server, one browser at a time; the restart test stops and starts its own server.
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
