import { redirect } from '@sveltejs/kit';
import { ApiError, createClient } from '$lib/api';
import { loadError, loginPath } from '$lib/errors';
import type { LayoutLoad } from './$types';

// Every page in this group needs a session; the sign-in page is outside it.
export const load: LayoutLoad = async ({ fetch, url, untrack }) => {
  try {
    return { session: await createClient(fetch).me() };
  } catch (e) {
    // Reading the URL untracked keeps this load from re-running on every navigation.
    if (e instanceof ApiError && e.status === 401) redirect(307, loginPath(untrack(() => url.pathname + url.search)));
    loadError(e);
  }
};
