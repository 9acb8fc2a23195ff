import type { DB } from '../db/client';
import type { Env } from '../env';
import { createLiveExecutor, vendorOf } from '../integrations';
import { liveSettings } from '../store/integrations';
import type { LiveBackends } from './invoke';
import { isK8sAction } from '../../k8s-relay/contract/protocol';
import { clusterBackend, isLiveCluster } from '../clusters/backend';
import { ToolError } from '../tools/types';

/**
 * Where a tenant's live tool calls go: GitHub, Jira and PagerDuty tools to the vendor's API when
 * the tenant set that integration to live mode (credentials decrypted per call, cached briefly);
 * Kubernetes tools to the relay of the cluster their `cluster` argument names; everything else runs
 * simulated. A run is live only when the tenant has something live, so in a live run a k8s call on
 * a cluster that is not registered, or revoked, fails: it is never quietly simulated (DESIGN §13).
 */
export function liveBackends(env: Env, db: DB): LiveBackends {
  const clusters = clusterBackend(env);
  return {
    async executorFor(tenantId, toolId, args) {
      if (isK8sAction(toolId)) {
        const cluster = typeof args.cluster === 'string' ? args.cluster : '';
        if (cluster && (await isLiveCluster(env, tenantId, cluster))) return clusters.executorFor(tenantId, toolId);
        return { call: () => Promise.reject(notRegistered(cluster)), secrets: [] };
      }
      const vendor = vendorOf(toolId);
      if (!vendor) return undefined;
      const settings = await liveSettings(env, db, tenantId, vendor);
      if (!settings) return undefined;
      const execute = createLiveExecutor(vendor, settings);
      return {
        // The vendor integrations mark what they create with the key they get and look for it before
        // creating: given the step's effect key, a later attempt of the step finds an earlier one's work.
        call: (c) => execute({ tool: c.tool, args: c.args, idempotencyKey: c.effectKey ?? c.idempotencyKey, signal: c.signal }),
        secrets: settings.secrets,
      };
    },
  };
}

/** A k8s call in a live run on a cluster the tenant has not registered (or revoked): no retry mends it. */
function notRegistered(cluster: string): ToolError {
  return new ToolError(
    `cluster "${cluster}" is not registered for this tenant (or was revoked): in a live run a Kubernetes call needs a registered cluster (POST /clusters); it is not simulated`,
    false,
    'not_registered',
  );
}
