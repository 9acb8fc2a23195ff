import { Version3Client } from 'jira.js';
import { IntegrationError, httpError, parseRetryAfter, transportError, vendorText } from './errors';
import type { IntegrationSettings, JiraCredentials } from './types';

/**
 * A jira.js client for one call. Jira Cloud authenticates with email and API token (basic);
 * Jira Data Center's personal access tokens are bearer tokens, which jira.js sends for an OAuth
 * access token given with a host (no token refresh, no cloud-id lookup).
 */
export function jiraClient(settings: IntegrationSettings<JiraCredentials> & { base_url: string }, signal?: AbortSignal): Version3Client {
  const c = settings.credentials;
  const common = {
    host: settings.base_url.replace(/\/+$/, ''),
    // axios's fetch adapter: the same code path in Node and in workerd (which has no XHR or http module).
    baseRequestConfig: { adapter: 'fetch', signal, headers: { 'User-Agent': 'agentrunbook' } },
  };
  return new Version3Client(
    'token' in c
      ? { ...common, authentication: { oauth2: { accessToken: c.token } } }
      : { ...common, authentication: { basic: { email: c.email, apiToken: c.api_token } } },
  );
}

/** Every value that authenticates: the token, and the `email:token` pair a basic-auth header encodes. */
export function jiraSecrets(c: JiraCredentials): string[] {
  return 'token' in c ? [c.token] : [c.api_token, `${c.email}:${c.api_token}`];
}

interface HeadersLike {
  get?(name: string): unknown;
  [name: string]: unknown;
}

/** What jira.js throws for an HTTP answer: `HttpException` with the axios error as its cause. */
interface JiraHttpException {
  status: number;
  response?: { data?: unknown };
  cause?: { config?: { method?: string; url?: string }; response?: { headers?: HeadersLike } };
}

const isHttpException = (err: unknown): err is JiraHttpException =>
  err instanceof Error && typeof (err as Partial<JiraHttpException>).status === 'number' && 'response' in err;

function header(headers: HeadersLike | undefined, name: string): string | undefined {
  const value = typeof headers?.get === 'function' ? headers.get(name) : headers?.[name];
  return value === undefined || value === null ? undefined : String(value);
}

/** Jira's error body: `errorMessages` for the request, `errors` by field. */
function jiraMessage(data: unknown, fallback: string): string {
  if (typeof data === 'string') return vendorText(data, fallback);
  if (!data || typeof data !== 'object') return fallback;
  const { errorMessages, errors, message } = data as { errorMessages?: unknown; errors?: unknown; message?: unknown };
  const parts = [
    ...(Array.isArray(errorMessages) ? errorMessages.map(String) : []),
    ...(errors && typeof errors === 'object' ? Object.entries(errors).map(([f, m]) => `${f}: ${String(m)}`) : []),
    ...(typeof message === 'string' ? [message] : []),
  ];
  return vendorText(parts.join('; '), fallback);
}

export function classifyJiraError(err: unknown, now = Date.now()): IntegrationError {
  if (err instanceof IntegrationError) return err;
  if (!isHttpException(err) || err.status === 0) return transportError('jira', err);
  const config = err.cause?.config;
  const operation = config?.method && config.url ? `${config.method.toUpperCase()} ${config.url}` : undefined;
  return httpError('jira', err.status, jiraMessage(err.response?.data, `HTTP ${err.status}`), {
    operation,
    retryAfterMs: parseRetryAfter(header(err.cause?.response?.headers, 'retry-after'), now),
  });
}
