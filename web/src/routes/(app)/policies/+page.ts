import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  depends('app:policies');
  const { items } = await createClient(fetch).listPolicies().catch(loadError);
  return { policies: items };
};
