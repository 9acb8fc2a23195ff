import type { z } from 'zod';
import { IntegrationError, VENDOR_NAMES } from './errors';
import { createGitHubExecutor } from './github';
import { createJiraExecutor } from './jira';
import { createPagerDutyExecutor } from './pagerduty';
import { credentialSchemas, type ExecutorOptions, type LiveExecutor, type Vendor } from './types';

export { IntegrationError } from './errors';
export type { IntegrationErrorCode } from './errors';
export { createGitHubExecutor } from './github';
export { createJiraExecutor } from './jira';
export { createPagerDutyExecutor } from './pagerduty';
export * from './types';

const VENDORS: readonly Vendor[] = ['github', 'jira', 'pagerduty'];

/** The vendor whose live implementation serves a tool (`github.create_issue` → `github`), if any. */
export function vendorOf(toolId: string): Vendor | undefined {
  const namespace = toolId.slice(0, toolId.indexOf('.'));
  return (VENDORS as readonly string[]).includes(namespace) ? (namespace as Vendor) : undefined;
}

/** Checks decrypted credentials; the error names missing or malformed fields, never a value. */
function credentials<V extends Vendor>(vendor: V, raw: unknown): z.infer<(typeof credentialSchemas)[V]> {
  const parsed = credentialSchemas[vendor].safeParse(raw);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'credentials'))].join(', ');
    throw new IntegrationError(vendor, 'invalid', `${VENDOR_NAMES[vendor]} credentials are incomplete or malformed (${fields})`);
  }
  return parsed.data as z.infer<(typeof credentialSchemas)[V]>;
}

/**
 * The live executor for a tenant's settings of one vendor, with the credentials as decrypted
 * from storage. Credentials of the wrong shape fail at once as a permanent `IntegrationError`.
 */
export function createLiveExecutor(
  vendor: Vendor,
  settings: { base_url?: string; credentials: unknown },
  options: ExecutorOptions = {},
): LiveExecutor {
  const { base_url } = settings;
  switch (vendor) {
    case 'github':
      return createGitHubExecutor({ base_url, credentials: credentials('github', settings.credentials) }, options);
    case 'jira':
      return createJiraExecutor({ base_url, credentials: credentials('jira', settings.credentials) }, options);
    case 'pagerduty':
      return createPagerDutyExecutor({ base_url, credentials: credentials('pagerduty', settings.credentials) }, options);
  }
}
