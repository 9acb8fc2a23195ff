import { clusterStub } from '../clusters/backend';
import { listClusters } from '../clusters/store';
import type { RelayStatus } from '../clusters/types';
import type { DB } from '../db/client';
import type { Env } from '../env';
import { testConnection } from '../integrations/test-connection';
import type { Vendor } from '../integrations/types';
import { TOOL_VENDORS, decryptedSettings, listIntegrations } from '../store/integrations';
import { fail, ok, warn, type Check } from './check';

/** How long one vendor may take to answer the doctor's test call. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Every live integration of the tenant answers one authenticated read (the same call as
 * `POST /integrations/{vendor}/test`); simulated ones need nothing.
 */
export async function integrationChecks(env: Env, db: DB, tenantId: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Check[]> {
  const live = (await listIntegrations(db, tenantId)).filter((r) => r.mode === 'live' && (TOOL_VENDORS as readonly string[]).includes(r.vendor));
  if (!live.length) return [ok('integrations', 'no live integrations: GitHub, Jira and PagerDuty tools run simulated')];
  return Promise.all(
    live.map(async (row): Promise<Check> => {
      const vendor = row.vendor as Vendor;
      const id = `integration.${vendor}`;
      const fix = `check base_url and credentials: PUT /api/v1/integrations/${vendor}, then POST /api/v1/integrations/${vendor}/test (or switch it to {"mode":"simulated"})`;
      let settings: Awaited<ReturnType<typeof decryptedSettings>>;
      try {
        settings = await decryptedSettings(env, row);
      } catch {
        return fail(id, `${vendor}: the stored credentials do not decrypt (SECRETS_KEY changed since they were saved?)`, `restore the previous SECRETS_KEY, or enter the credentials again: PUT /api/v1/integrations/${vendor}`);
      }
      if (!settings) return fail(id, `${vendor} is live but has no credentials`, fix);
      const result = await testConnection(vendor, settings, AbortSignal.timeout(timeoutMs));
      return result.ok ? ok(id, `${vendor}: ${result.message} (${result.latency_ms} ms)`) : fail(id, `${vendor} is live but its test call failed: ${result.message}`, fix);
    }),
  );
}

const relayFix = (name: string) =>
  `deploy the relay with CLUSTER_NAME=${name} and its token (docs/deploy.md, "Deploying the relay"); if it runs: kubectl -n agentrunbook logs deploy/k8s-relay`;

/** Judges one cluster from its Durable Object's view of the relay. */
export function clusterCheck(name: string, s: RelayStatus): Check {
  const id = `cluster.${name}`;
  if (!s.connected) {
    const last = s.disconnected_at ? `; last connection ended ${s.disconnected_at}${s.last_close ? ` (${s.last_close.code} ${s.last_close.reason})` : ''}` : '; no relay has connected yet';
    return fail(id, `${name}: no relay is connected, so its k8s tool calls fail${last}`, relayFix(name));
  }
  const version = s.relay_version ? ` (relay ${s.relay_version})` : '';
  if (s.api_server_reachable === false) {
    const why = s.health?.api_server.error ? `: ${s.health.api_server.error}` : '';
    return warn(id, `${name}: relay connected${version} but it cannot reach the Kubernetes API server${why}`, 'check the relay\'s network policy and ServiceAccount: kubectl -n agentrunbook logs deploy/k8s-relay');
  }
  return ok(id, `${name}: relay connected${version}, last seen ${s.last_seen_at ?? s.connected_at ?? 'now'}`);
}

/** Every registered (not revoked) cluster has a relay connected. */
export async function clusterChecks(env: Env, db: DB, tenantId: string): Promise<Check[]> {
  const rows = await listClusters(db, tenantId);
  if (!rows.length) return [ok('clusters', 'no clusters registered: k8s tools run simulated')];
  return Promise.all(
    rows.map(async (row) => {
      try {
        return clusterCheck(row.name, await clusterStub(env, tenantId, row.name).status());
      } catch (err) {
        return fail(`cluster.${row.name}`, `${row.name}: its Durable Object did not answer (${err instanceof Error ? err.message : String(err)})`, 'check the CLUSTERS binding (binding.CLUSTERS above) and retry');
      }
    }),
  );
}
