import { Octokit } from '@octokit/rest';
import { IntegrationError, httpError, parseRetryAfter, transportError, vendorText } from './errors';
import type { GitHubCredentials, IntegrationSettings } from './types';

export const GITHUB_API = 'https://api.github.com';

/** Debug and info lines of @octokit/plugin-request-log would log every request; errors surface as IntegrationErrors. */
const quiet = { debug: () => {}, info: () => {}, warn: console.warn, error: () => {} };

/**
 * An Octokit for one call. `base_url` points at GitHub Enterprise Server (`https://ghe.example.com/api/v3`)
 * or a test's fake; Octokit derives the GraphQL endpoint from it.
 */
export function githubClient(settings: IntegrationSettings<GitHubCredentials>, signal?: AbortSignal): Octokit {
  return new Octokit({
    auth: settings.credentials.token,
    baseUrl: (settings.base_url ?? GITHUB_API).replace(/\/+$/, ''),
    userAgent: 'agentrunbook',
    request: { signal },
    log: quiet,
  });
}

/** "owner/name" into Octokit's two parameters. */
export function ownerRepo(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
}

interface OctokitHttpError {
  status: number;
  request?: { method?: string; url?: string };
  response?: { headers: Record<string, string | undefined>; data: unknown };
}

interface GraphqlError {
  name: 'GraphqlResponseError';
  errors?: { type?: string; message?: string }[];
}

const isHttpError = (err: unknown): err is OctokitHttpError =>
  err instanceof Error && err.name === 'HttpError' && typeof (err as Partial<OctokitHttpError>).status === 'number';

function operation(err: OctokitHttpError): string | undefined {
  const { method, url } = err.request ?? {};
  if (!method || !url) return undefined;
  try {
    return `${method} ${new URL(url).pathname}`;
  } catch {
    return method;
  }
}

/** GitHub's error body: `message`, and for 422 the `errors` naming field and problem. */
function githubMessage(data: unknown, fallback: string): string {
  if (typeof data === 'string') return vendorText(data, fallback);
  if (!data || typeof data !== 'object') return fallback;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const details = Array.isArray(errors)
    ? errors
        .map((e: { field?: string; code?: string; message?: string } | string) =>
          typeof e === 'string' ? e : (e.message ?? [e.field, e.code].filter(Boolean).join(' ')),
        )
        .filter(Boolean)
    : [];
  const head = typeof message === 'string' ? message : fallback;
  return vendorText(details.length ? `${head}: ${details.join('; ')}` : head, fallback);
}

/**
 * GitHub's rate limits answer 403 as often as 429: the primary limit says so in
 * `x-ratelimit-remaining: 0` (wait until `x-ratelimit-reset`), the secondary in `retry-after` or
 * its message (GitHub asks for at least a minute then).
 */
function rateLimitWait(err: OctokitHttpError, message: string, now: number): number | undefined {
  const headers = err.response?.headers ?? {};
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) return retryAfter;
  if (headers['x-ratelimit-remaining'] === '0' && headers['x-ratelimit-reset']) {
    return Math.max(0, Number(headers['x-ratelimit-reset']) * 1000 - now);
  }
  if (/secondary rate limit|abuse/i.test(message)) return 60_000;
  return err.status === 429 ? 60_000 : undefined;
}

export function classifyGitHubError(err: unknown, now = Date.now()): IntegrationError {
  if (err instanceof IntegrationError) return err;
  if (err instanceof Error && err.name === 'GraphqlResponseError') {
    const errors = (err as Error & GraphqlError).errors ?? [];
    const type = errors[0]?.type;
    const code = type === 'RATE_LIMITED' ? 'rate_limited' : type === 'NOT_FOUND' ? 'not_found' : type === 'FORBIDDEN' ? 'forbidden' : 'invalid';
    const message = errors.map((e) => e.message).filter(Boolean).join('; ') || 'GraphQL request failed';
    return new IntegrationError('github', code, `GitHub GraphQL: ${vendorText(message, 'request failed')}`, {
      retryAfterMs: code === 'rate_limited' ? 60_000 : undefined,
    });
  }
  // Octokit reports a failed fetch as status 500 with no response.
  if (!isHttpError(err) || !err.response) return transportError('github', err, isHttpError(err) ? operation(err) : undefined);
  const message = githubMessage(err.response.data, `HTTP ${err.status}`);
  const limitable = err.status === 403 || err.status === 429;
  const wait = limitable ? rateLimitWait(err, message, now) : parseRetryAfter(err.response.headers['retry-after'], now);
  const rateLimited = limitable && wait !== undefined;
  return httpError('github', err.status, message, {
    operation: operation(err),
    retryAfterMs: wait,
    code: rateLimited ? 'rate_limited' : undefined,
  });
}
