import { createClient, isMissingRoute } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  try {
    const { items } = await createClient(fetch).listEvals();
    return { reports: items, available: true };
  } catch (e) {
    if (isMissingRoute(e)) return { reports: [], available: false };
    return loadError(e);
  }
};
