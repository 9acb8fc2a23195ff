/**
 * Stands in for `cross-fetch` when the Worker is bundled (wrangler.toml `[alias]`). @pagerduty/pdjs
 * imports cross-fetch, whose browser build (the one bundlers pick) polyfills fetch over
 * XMLHttpRequest, which workerd does not have. This module gives it the platform's fetch instead.
 *
 * pdjs passes its own options (`queryParameters`, `retryTimeout`, a timer handle…) in the fetch
 * init; only the standard fields are forwarded, so nothing unknown reaches workerd's fetch.
 * `fetch` is looked up on every call, so a test that replaces `globalThis.fetch` is honoured.
 */

function platformFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const forwarded: RequestInit | undefined = init && {
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: init.signal,
    redirect: init.redirect,
  };
  return globalThis.fetch(input, forwarded);
}

export default platformFetch;
export { platformFetch as fetch };
const platform = globalThis as unknown as { Headers: typeof Headers; Request: typeof Request; Response: typeof Response };
export const { Headers: PlatformHeaders, Request: PlatformRequest, Response: PlatformResponse } = platform;
export { PlatformHeaders as Headers, PlatformRequest as Request, PlatformResponse as Response };
