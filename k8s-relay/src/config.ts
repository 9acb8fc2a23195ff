import { readFileSync } from 'node:fs';
import { parseDuration } from '../contract/duration';
import type { LogLevel } from './log';
import { K8S_ACTIONS, connectPath, isK8sAction } from '../contract/protocol';
import type { K8sAction } from '../contract/protocol';

/** The relay's configuration, all from the environment (see README "Configuration"). */
export interface RelayConfig {
  /** `ws(s)://…/api/v1/clusters/{name}/connect`. */
  connectUrl: string;
  cluster: string;
  token: string;
  allowedNamespaces: '*' | string[];
  allowedActions: K8sAction[];
  healthPort: number;
  idempotencyFile: string | null;
  idempotencyTtlMs: number;
  idempotencyMaxEntries: number;
  heartbeatMs: number;
  healthIntervalMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logLevel: LogLevel;
  /** The relay's own pod (downward API), so a drain of its node does not evict the relay mid-request. */
  self: { namespace: string; name: string } | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

type Env = Record<string, string | undefined>;

/**
 * Reads and checks the whole configuration, reporting every problem at once so an operator fixes
 * the manifest in one go. Secrets are read here and nowhere else.
 */
export function loadConfig(env: Env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): RelayConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  const duration = (name: string, fallback: string): number => {
    const ms = parseDuration(str(name) ?? fallback);
    if (ms === undefined || ms <= 0) {
      problems.push(`${name} must be a duration such as "30s" or "5m"`);
      return parseDuration(fallback) ?? 1000;
    }
    return ms;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer from ${min} to ${max}`);
    return Number.isInteger(n) ? n : fallback;
  };

  const cluster = str('CLUSTER_NAME') ?? '';
  if (!DNS_LABEL.test(cluster)) problems.push('CLUSTER_NAME is required: the name the cluster was registered with (lowercase letters, digits, "-")');

  let connectUrl = '';
  const hub = str('HUB_URL');
  if (hub === undefined) problems.push('HUB_URL is required, e.g. https://agentrunbook.example.com');
  else {
    try {
      const url = new URL(hub);
      const scheme = { 'https:': 'wss:', 'wss:': 'wss:', 'http:': 'ws:', 'ws:': 'ws:' }[url.protocol];
      if (!scheme) problems.push('HUB_URL must be an https:// (or wss://) URL');
      else if (scheme === 'ws:' && !LOOPBACK.has(url.hostname) && str('ALLOW_INSECURE_HUB') !== 'true') {
        problems.push('HUB_URL must use https: the cluster token travels in the upgrade request (set ALLOW_INSECURE_HUB=true to override)');
      }
      url.protocol = scheme ?? url.protocol;
      url.pathname = `${url.pathname.replace(/\/+$/, '')}${connectPath(cluster)}`;
      url.search = '';
      url.hash = '';
      connectUrl = url.toString();
    } catch {
      problems.push('HUB_URL is not a valid URL');
    }
  }

  let token = str('CLUSTER_TOKEN');
  const tokenFile = str('CLUSTER_TOKEN_FILE');
  if (tokenFile !== undefined) {
    try {
      token = readFile(tokenFile).trim();
    } catch (err) {
      problems.push(`CLUSTER_TOKEN_FILE ${tokenFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (!token) problems.push('CLUSTER_TOKEN_FILE (preferred) or CLUSTER_TOKEN is required: the token POST /api/v1/clusters returned');

  const allowedNamespaces = parseList(str('ALLOWED_NAMESPACES'), 'ALLOWED_NAMESPACES', problems, 'a namespace name', (ns) =>
    DNS_LABEL.test(ns) ? ns : undefined,
  );
  const allowedActions = parseList(str('ALLOWED_ACTIONS'), 'ALLOWED_ACTIONS', problems, `one of ${K8S_ACTIONS.join(', ')}`, (a) => {
    const id = a.startsWith('k8s.') ? a : `k8s.${a}`;
    return isK8sAction(id) ? id : undefined;
  });

  const logLevel = (str('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`);

  const podName = str('POD_NAME');
  const podNamespace = str('POD_NAMESPACE');

  const config: RelayConfig = {
    connectUrl,
    cluster,
    token: token ?? '',
    allowedNamespaces,
    allowedActions: allowedActions === '*' ? [...K8S_ACTIONS] : allowedActions,
    healthPort: int('HEALTH_PORT', 8080, 0, 65535),
    idempotencyFile: str('IDEMPOTENCY_FILE') ?? null,
    idempotencyTtlMs: duration('IDEMPOTENCY_TTL', '24h'),
    idempotencyMaxEntries: int('IDEMPOTENCY_MAX_ENTRIES', 1000, 1, 100_000),
    heartbeatMs: duration('HEARTBEAT_INTERVAL', '20s'),
    healthIntervalMs: duration('HEALTH_INTERVAL', '30s'),
    reconnectMinMs: duration('RECONNECT_MIN', '1s'),
    reconnectMaxMs: duration('RECONNECT_MAX', '60s'),
    logLevel,
    self: podName && podNamespace ? { namespace: podNamespace, name: podName } : null,
  };
  if (config.reconnectMaxMs < config.reconnectMinMs) problems.push('RECONNECT_MAX must not be less than RECONNECT_MIN');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * `*` or a comma-separated list. Required rather than defaulted: what the relay may touch is a
 * decision the cluster's owner makes explicitly in the manifest.
 */
function parseList<T extends string>(
  raw: string | undefined,
  name: string,
  problems: string[],
  expected: string,
  check: (item: string) => T | undefined,
): '*' | T[] {
  if (raw === undefined) {
    problems.push(`${name} is required: "*" or a comma-separated list`);
    return [];
  }
  if (raw === '*') return '*';
  const items: T[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const ok = check(item);
    if (ok === undefined) problems.push(`${name}: "${item}" is not ${expected}`);
    else if (!items.includes(ok)) items.push(ok);
  }
  if (items.length === 0 && problems.every((p) => !p.startsWith(name))) problems.push(`${name} is empty`);
  return items;
}
