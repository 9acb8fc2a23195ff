import { createClient, isMissingRoute } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends }) => {
  depends('app:integrations');
  try {
    const { items } = await createClient(fetch).listIntegrations();
    return { integrations: items, available: true };
  } catch (e) {
    if (isMissingRoute(e)) return { integrations: [], available: false };
    return loadError(e);
  }
};
