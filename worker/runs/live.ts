import type { DB } from '../db/client';
import type { Env } from '../env';
import { createLiveExecutor, vendorOf } from '../integrations';
import { liveSettings } from '../store/integrations';
import type { LiveBackends } from './invoke';
import { isK8sAction } from '../../k8s-relay/contract/protocol';
import { clusterBackend, isLiveCluster } from '../clusters/backend';

/**
 * Where a tenant's live tool calls go: GitHub, Jira and PagerDuty tools to the vendor's API when
 * the tenant set that integration to live mode (credentials decrypted per call, cached briefly);
 * Kubernetes tools to the relay of the cluster their `cluster` argument names, when the tenant
 * registered that cluster; everything else runs simulated.
 */
export function liveBackends(env: Env, db: DB): LiveBackends {
  const clusters = clusterBackend(env);
  return {
    async executorFor(tenantId, toolId, args) {
      if (isK8sAction(toolId)) {
        return typeof args.cluster === 'string' && (await isLiveCluster(env, tenantId, args.cluster)) ? clusters.executorFor(tenantId, toolId) : undefined;
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
