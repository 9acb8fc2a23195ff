/** Default bound on a provider's `Retry-After`. */
export const MAX_RETRY_WAIT_MS = 30_000;

/** The SDKs' fetch signature. */
type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How long an answer asks the client to wait before retrying, in ms, if it says. */
function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? date - Date.now() : undefined;
}

/**
 * A fetch for the vendor SDKs whose answers never ask for a longer wait than `maxMs`. The SDKs
 * honour `Retry-After` as given (OpenAI's without any bound), and an hour's wait would hold a
 * run's alarm for an hour; capped, the bounded retries run out instead and the run is told.
 */
export function capRetryAfter(maxMs: number): Fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const wait = retryAfterMs(res.headers);
    if (wait === undefined || wait <= maxMs) return res;
    const headers = new Headers(res.headers);
    headers.delete('retry-after');
    headers.set('retry-after-ms', String(maxMs));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
