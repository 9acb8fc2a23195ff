import { createClient, isMissingRoute } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  depends('app:integrations');
  try {
    const { items } = await createClient(fetch).listIntegrations();
    return { integrations: items, available: true };
  } catch (e) {
    if (isMissingRoute(e)) return { integrations: [], available: false };
    return loadError(e);
  }
};
