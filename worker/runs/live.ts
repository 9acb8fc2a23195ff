import type { DB } from '../db/client';
import type { Env } from '../env';
import { createLiveExecutor, vendorOf } from '../integrations';
import { liveSettings } from '../store/integrations';
import type { LiveBackends } from './invoke';

/**
 * Where a tenant's live tool calls go: GitHub, Jira and PagerDuty tools to the vendor's API when
 * the tenant set that integration to live mode (credentials decrypted per call, cached briefly);
 * everything else runs simulated.
 */
export function liveBackends(env: Env, db: DB): LiveBackends {
  return {
    async executorFor(tenantId, toolId) {
      const vendor = vendorOf(toolId);
      if (!vendor) return undefined;
      const settings = await liveSettings(env, db, tenantId, vendor);
      if (!settings) return undefined;
      const execute = createLiveExecutor(vendor, settings);
      return {
        call: (c) => execute({ tool: c.tool, args: c.args, idempotencyKey: c.idempotencyKey, signal: c.signal }),
        secrets: settings.secrets,
      };
    },
  };
}
