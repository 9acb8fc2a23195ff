// Wrangler bundles YAML files as text (see `[[rules]]` in wrangler.toml).
declare module '*.yaml' {
  const text: string;
  export default text;
}

// Types of `env` and `exports` from `cloudflare:workers` in the Worker and its tests.
declare namespace Cloudflare {
  // Listed here rather than `extends`-ed: a global interface cannot extend an imported one reliably.
  interface Env {
    DB: D1Database;
    RUNS: DurableObjectNamespace<import('./durable-objects/run-do').RunDO>;
    AUDIT: DurableObjectNamespace<import('./durable-objects/audit-do').AuditDO>;
    LIMITER: DurableObjectNamespace<import('./durable-objects/rate-limiter-do').RateLimiterDO>;
    CLUSTERS: DurableObjectNamespace<import('./durable-objects/cluster-do').ClusterDO>;
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
  }
  interface GlobalProps {
    mainModule: typeof import('./worker/index');
    durableNamespaces: 'RunDO' | 'AuditDO' | 'RateLimiterDO' | 'ClusterDO';
  }
}
