import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends }) => {
  depends('app:policies');
  const { items } = await createClient(fetch).listPolicies().catch(loadError);
  return { policies: items };
};
