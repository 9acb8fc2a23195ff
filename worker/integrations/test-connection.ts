import { classifyGitHubError, githubClient } from './github-client';
import { classifyJiraError, jiraClient, jiraSecrets } from './jira-client';
import { classifyPagerDutyError, pagerdutyClient } from './pagerduty-client';
import { scrubSecrets } from './errors';
import { credentialSchemas, type GitHubCredentials, type JiraCredentials, type PagerDutyCredentials, type Vendor } from './types';

export interface ConnectionCheck {
  ok: boolean;
  /** Who the credentials act as, when the vendor says. */
  identity?: string;
  message: string;
  latency_ms: number;
}

/**
 * One cheap authenticated read per vendor (GitHub: the authenticated user; Jira: myself;
 * PagerDuty: the account's abilities), so an admin learns at once whether URL and credentials work.
 */
export async function testConnection(vendor: Vendor, settings: { base_url?: string; credentials: unknown }, signal?: AbortSignal): Promise<ConnectionCheck> {
  const t0 = Date.now();
  const parsed = credentialSchemas[vendor].safeParse(settings.credentials);
  if (!parsed.success) return { ok: false, message: `Credentials are incomplete or malformed (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`, latency_ms: 0 };
  const done = (ok: boolean, message: string, identity?: string): ConnectionCheck => ({ ok, message, ...(identity ? { identity } : {}), latency_ms: Date.now() - t0 });
  try {
    switch (vendor) {
      case 'github': {
        const creds = parsed.data as GitHubCredentials;
        try {
          const { data } = await githubClient({ base_url: settings.base_url, credentials: creds }, signal).rest.users.getAuthenticated();
          return done(true, `Authenticated to GitHub as ${data.login}`, data.login);
        } catch (err) {
          return done(false, scrubSecrets(classifyGitHubError(err).message, [creds.token]));
        }
      }
      case 'jira': {
        const creds = parsed.data as JiraCredentials;
        if (!settings.base_url) return done(false, 'Jira needs base_url (your site, e.g. https://acme.atlassian.net)');
        try {
          const me = await jiraClient({ base_url: settings.base_url, credentials: creds }, signal).myself.getCurrentUser();
          const who = me.emailAddress ?? me.displayName ?? me.accountId ?? 'unknown user';
          return done(true, `Authenticated to Jira as ${who}`, who);
        } catch (err) {
          return done(false, scrubSecrets(classifyJiraError(err).message, jiraSecrets(creds)));
        }
      }
      case 'pagerduty': {
        const creds = parsed.data as PagerDutyCredentials;
        try {
          await pagerdutyClient({ base_url: settings.base_url, credentials: creds }, 0, signal)('GET', '/abilities');
          return done(true, `Authenticated to PagerDuty; writes will be made as ${creds.from_email}`, creds.from_email);
        } catch (err) {
          return done(false, scrubSecrets(classifyPagerDutyError(err).message, [creds.token]));
        }
      }
    }
  } catch (err) {
    return done(false, err instanceof Error ? err.message : String(err));
  }
}
