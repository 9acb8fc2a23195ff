import type { AddressInfo } from 'node:net';
import { ACTIONS, assertCatalogMatches } from './actions';
import { MAX_LOG_LINES } from './actions/logs';
import { Allowlist } from './allowlist';
import type { RelayConfig } from './config';
import { HubConnection } from './connection';
import { Executor } from './executor';
import { startHealthServer } from './health';
import { IdempotencyStore } from './idempotency';
import { probeApiServer } from './kube';
import type { ApiServerStatus, Kube } from './kube';
import type { Logger } from './log';
import { PROTOCOL_VERSION, deriveSigningKey } from '../contract/protocol';
import type { HealthMessage, HelloMessage } from '../contract/protocol';
import { RELAY_VERSION } from './version';

export interface RelayDeps {
  kube: Kube;
  log: Logger;
  /** Eviction retry / deletion poll interval (tests shorten it). */
  pollIntervalMs?: number;
  random?: () => number;
  /** Where the health server listens (tests use 127.0.0.1). */
  healthHost?: string;
}

export interface Relay {
  connection: HubConnection;
  executor: Executor;
  store: IdempotencyStore;
  healthPort: number;
  /** Graceful stop: no new requests, let running ones finish (up to `graceMs`), close, flush. */
  stop(graceMs?: number): Promise<void>;
}

/** Wires the relay together and starts it: health server, API-server probe, hub connection. */
export async function startRelay(config: RelayConfig, deps: RelayDeps): Promise<Relay> {
  assertCatalogMatches();
  const { kube, log } = deps;
  const allowlist = new Allowlist(config.allowedNamespaces, config.allowedActions);
  const store = await IdempotencyStore.open({
    file: config.idempotencyFile,
    ttlMs: config.idempotencyTtlMs,
    maxEntries: config.idempotencyMaxEntries,
    log,
  });
  const executor = new Executor({
    cluster: config.cluster,
    signingKey: await deriveSigningKey(config.token),
    allowlist,
    store,
    kube,
    log,
    self: config.self,
    pollIntervalMs: deps.pollIntervalMs,
  });

  const startedAt = Date.now();
  let api: ApiServerStatus = { reachable: false, checkedAt: null, latencyMs: null, version: null, error: 'not probed yet' };
  const hello = (): HelloMessage => ({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    relay_version: RELAY_VERSION,
    cluster: config.cluster,
    allowlist: allowlist.summary(),
    capabilities: { actions: [...ACTIONS.keys()], dry_run: true, max_log_lines: MAX_LOG_LINES, signed_requests: true, cancel: true, effect_key: true },
  });
  const health = (): HealthMessage => ({
    type: 'health',
    ready: connection.connected && api.reachable,
    api_server: { reachable: api.reachable, checked_at: api.checkedAt, latency_ms: api.latencyMs, version: api.version, error: api.error },
    in_flight: executor.inFlight,
    uptime_s: Math.floor((Date.now() - startedAt) / 1000),
  });

  const connection = new HubConnection({
    url: config.connectUrl,
    token: config.token,
    log,
    hello,
    health,
    onRequest: (req) => executor.handle(req),
    onCancel: (msg) => executor.cancel(msg),
    onInvalid: (raw, error) => executor.invalid(raw, error),
    heartbeatMs: config.heartbeatMs,
    healthIntervalMs: config.healthIntervalMs,
    reconnectMinMs: config.reconnectMinMs,
    reconnectMaxMs: config.reconnectMaxMs,
    random: deps.random,
  });

  const probe = async () => {
    const was = api.reachable;
    api = await probeApiServer(kube);
    if (api.reachable !== was) {
      log[api.reachable ? 'info' : 'warn']('Kubernetes API server reachability changed', { reachable: api.reachable, version: api.version, error: api.error });
      connection.sendHealth();
    }
  };
  const probeTimer = setInterval(() => void probe(), config.healthIntervalMs);
  void probe();

  const server = await startHealthServer(config.healthPort, () => ({ hubConnected: connection.connected, api }), deps.healthHost);
  connection.start();
  log.info('relay started', {
    version: RELAY_VERSION,
    cluster: config.cluster,
    hub: config.connectUrl,
    allowed_namespaces: allowlist.describeNamespaces(),
    allowed_actions: config.allowedActions,
    idempotency_file: config.idempotencyFile,
  });

  return {
    connection,
    executor,
    store,
    healthPort: (server.address() as AddressInfo).port,
    async stop(graceMs = 20_000) {
      connection.quiesce();
      await executor.settle(graceMs);
      clearInterval(probeTimer);
      await connection.stop();
      await store.flush();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.info('relay stopped', { in_flight: executor.inFlight });
    },
  };
}
