import { redirect } from '@sveltejs/kit';
import { createClient } from '$lib/api';
import { loadError, loginPath } from '$lib/errors';
import type { LayoutLoad } from './$types';

// Every page in this group needs a session; the sign-in page is outside it. SvelteKit runs a page's
// load alongside its layouts', so each load below this one awaits parent() before it calls the API:
// a signed-out visitor is sent to the sign-in page without a 401 (which the browser logs as an error).
export const load: LayoutLoad = async ({ fetch, url, untrack }) => {
  let session;
  try {
    session = await createClient(fetch).session();
  } catch (e) {
    loadError(e);
  }
  // Reading the URL untracked keeps this load from re-running on every navigation.
  if (!session) redirect(307, loginPath(untrack(() => url.pathname + url.search)));
  return { session };
};
