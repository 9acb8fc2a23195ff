import { defineConfig } from 'vitest/config';

// Two projects: pure logic runs in Node (fast, no runtime needed); everything that touches
// bindings (D1, Durable Objects, routes) runs inside workerd through the Workers pool.
export default defineConfig({
  test: {
    projects: ['./vitest.unit.config.ts', './vitest.workers.config.ts'],
  },
});
