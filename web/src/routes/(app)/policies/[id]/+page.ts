import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, params, depends, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  depends('app:policy');
  const client = createClient(fetch);
  const [policy, list] = await Promise.all([client.getPolicy(params.id), client.listPolicies()]).catch(loadError);
  return { policy, versions: list.items };
};
