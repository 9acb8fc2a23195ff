import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig(async () => {
  // Migrations are read here, in Node, and applied inside workerd by test/setup.ts,
  // so the tests run against exactly the SQL that `wrangler d1 migrations apply` uses.
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            AUDIT_HMAC_KEYS: JSON.stringify({ k1: 'test-audit-key-not-secret' }),
            SESSION_SECRET: 'test-session-secret',
            // Pinned: a developer's .dev.vars may name a real provider; tests never call one.
            LLM_PROVIDER: 'stub',
            // Test-only keys: the audit checkpoints' Ed25519 signing key, the metrics scrape token.
            AUDIT_SIGNING_KEY: 'MC4CAQAwBQYDK2VwBCIEIEmr3wyh3fLLp08gxw/RFKjoS0mwEA+spwtYce59H2hB',
            METRICS_TOKEN: 'test-metrics-token-not-secret',
            LOG_LEVEL: 'warn',
            // The fake vendors and identity providers of some tests listen on loopback addresses.
            ALLOW_PRIVATE_NETWORK: 'true',
            SECRETS_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
          },
        },
      }),
    ],
    test: {
      name: 'workers',
      include: ['test/**/*.test.ts'],
      // Tests assert behaviour, not speed: the slowest without a timeout of their own take ~3.5 s
      // here, and vitest's 5 s default would turn a slower CI machine into a failure.
      testTimeout: 20_000,
      setupFiles: ['./test/setup.ts'],
      // Off: with the file-system module cache, a fresh worker is sent the whole warm module
      // graph in one WebSocket message (vitest's fetchWarmModules, inlined by the Workers pool),
      // and once the graph passes 1 MiB workerd refuses it (1009 "Message is too large") and every
      // test file after the first dies at start. Modules are then fetched one by one.
      fsModuleCache: false,
    },
  };
});
