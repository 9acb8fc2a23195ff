import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'unit',
    environment: 'node',
    include: ['worker/**/*.test.ts', 'durable-objects/**/*.test.ts', 'policies/**/*.test.ts', 'k8s-relay/**/*.test.ts', 'evals/**/*.test.ts', 'scripts/**/*.test.mjs'],
  },
});
