import { defineConfig } from 'vitest/config';

// `npm run faults`: only the fault-injection suite (e2e/faults.test.ts). It starts, kills and
// restarts its own `wrangler dev`, so it needs none of the shared e2e server and UI build that
// e2e/global-setup.ts prepares; in `npm test` it runs with the other e2e files instead.
export default defineConfig({
  test: {
    name: 'faults',
    environment: 'node',
    include: ['e2e/faults.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // The campaign is one long test (about three minutes at the default 200 runs).
    testTimeout: 900_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
