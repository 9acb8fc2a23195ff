import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

const base = {
  HUB_URL: 'https://agentrunbook.example.com',
  CLUSTER_NAME: 'prod-eu',
  CLUSTER_TOKEN_FILE: '/var/run/secrets/agentrunbook/token',
  ALLOWED_NAMESPACES: 'payments, checkout',
  ALLOWED_ACTIONS: 'get_node,k8s.drain_node',
};
const files = { '/var/run/secrets/agentrunbook/token': 'arc_secret_from_file\n' } as Record<string, string>;
const readFile = (path: string) => {
  if (!(path in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  return files[path]!;
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env, readFile);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('builds the connect URL, reads the token file and normalises the allowlists', () => {
    const c = loadConfig({ ...base, HUB_URL: 'https://agentrunbook.example.com/base/', POD_NAME: 'k8s-relay-x', POD_NAMESPACE: 'agentrunbook' }, readFile);
    expect(c).toMatchObject({
      connectUrl: 'wss://agentrunbook.example.com/base/api/v1/clusters/prod-eu/connect',
      cluster: 'prod-eu',
      token: 'arc_secret_from_file',
      allowedNamespaces: ['payments', 'checkout'],
      allowedActions: ['k8s.get_node', 'k8s.drain_node'],
      healthPort: 8080,
      idempotencyFile: null,
      idempotencyTtlMs: 86_400_000,
      heartbeatMs: 20_000,
      reconnectMinMs: 1000,
      reconnectMaxMs: 60_000,
      self: { namespace: 'agentrunbook', name: 'k8s-relay-x' },
    });
  });

  it('accepts "*" for every namespace or action', () => {
    const c = loadConfig({ ...base, ALLOWED_NAMESPACES: '*', ALLOWED_ACTIONS: '*' }, readFile);
    expect(c.allowedNamespaces).toBe('*');
    expect(c.allowedActions).toHaveLength(9);
  });

  it('takes the token from the environment when there is no file', () => {
    const c = loadConfig({ ...base, CLUSTER_TOKEN_FILE: undefined, CLUSTER_TOKEN: 'arc_env' }, readFile);
    expect(c.token).toBe('arc_env');
  });

  it('reports every problem at once, naming the variable', () => {
    const found = problems({ HUB_URL: 'ftp://x', ALLOWED_ACTIONS: 'get_node,delete_everything', HEALTH_PORT: 'eighty', HEARTBEAT_INTERVAL: 'soon' });
    expect(found).toEqual([
      expect.stringContaining('CLUSTER_NAME is required'),
      'HUB_URL must be an https:// (or wss://) URL',
      expect.stringContaining('CLUSTER_TOKEN_FILE (preferred) or CLUSTER_TOKEN is required'),
      'ALLOWED_NAMESPACES is required: "*" or a comma-separated list',
      expect.stringMatching(/^ALLOWED_ACTIONS: "delete_everything" is not one of k8s.get_node/),
      'HEALTH_PORT must be an integer from 0 to 65535',
      'HEARTBEAT_INTERVAL must be a duration such as "30s" or "5m"',
    ]);
  });

  it('refuses plain ws to anything but loopback, since the token travels in the upgrade', () => {
    expect(problems({ ...base, HUB_URL: 'http://hub.internal:8787' })).toEqual([expect.stringContaining('HUB_URL must use https')]);
    expect(problems({ ...base, HUB_URL: 'http://127.0.0.1:8787' })).toEqual([]);
    expect(problems({ ...base, HUB_URL: 'http://hub.internal:8787', ALLOW_INSECURE_HUB: 'true' })).toEqual([]);
  });

  it('does not put the token in its error messages', () => {
    const found = problems({ ...base, CLUSTER_TOKEN_FILE: '/missing', CLUSTER_TOKEN: 'arc_leak_me' });
    expect(found.join()).toContain('CLUSTER_TOKEN_FILE /missing cannot be read: ENOENT');
    expect(found.join()).not.toContain('arc_leak_me');
  });
});
