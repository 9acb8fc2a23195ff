import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, params, depends }) => {
  depends('app:policy');
  const client = createClient(fetch);
  const [policy, list] = await Promise.all([client.getPolicy(params.id), client.listPolicies()]).catch(loadError);
  return { policy, versions: list.items };
};
