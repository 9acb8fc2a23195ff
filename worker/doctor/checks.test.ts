import { describe, expect, it } from 'vitest';
import type { RelayStatus } from '../clusters/types';
import { isLocalHost, setSecret } from './check';
import { clusterCheck } from './tenant-checks';

const relay = (over: Partial<RelayStatus>): RelayStatus => ({
  connected: true,
  connected_at: '2026-01-01T00:00:00.000Z',
  last_seen_at: '2026-01-01T00:01:00.000Z',
  disconnected_at: null,
  last_close: null,
  relay_version: '0.1.0',
  protocol: 1,
  allowlist: null,
  capabilities: null,
  last_hello_at: null,
  health: null,
  last_health_at: null,
  api_server_reachable: true,
  pending_requests: 0,
  ...over,
});

describe('doctor checks', () => {
  it('a connected relay that reaches its API server is ok; one that does not is a warning; no relay is a failure', () => {
    expect(clusterCheck('prod-eu', relay({}))).toMatchObject({ id: 'cluster.prod-eu', status: 'ok', message: 'prod-eu: relay connected (relay 0.1.0), last seen 2026-01-01T00:01:00.000Z' });
    expect(clusterCheck('prod-eu', relay({ api_server_reachable: false }))).toMatchObject({ status: 'warn', message: expect.stringContaining('cannot reach the Kubernetes API server') });
    const gone = clusterCheck('prod-eu', relay({ connected: false, disconnected_at: '2026-01-02T00:00:00.000Z', last_close: { code: 1001, reason: 'relay shutting down' } }));
    expect(gone).toMatchObject({ status: 'fail', message: expect.stringContaining('(1001 relay shutting down)'), fix: expect.stringContaining('CLUSTER_NAME=prod-eu') });
  });

  it('tells local from deployed hosts, and how to set a secret in each', () => {
    expect(['localhost', '127.0.0.1', '[::1]', 'x.localhost'].every(isLocalHost)).toBe(true);
    expect(isLocalHost('runbooks.example.com')).toBe(false);
    expect(setSecret({ local: false }, 'SESSION_SECRET', 'openssl rand -hex 32')).toBe('openssl rand -hex 32 | npx wrangler secret put SESSION_SECRET');
    expect(setSecret({ local: true }, 'SESSION_SECRET', 'openssl rand -hex 32')).toContain('.dev.vars');
  });
});
