import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends }) => {
  depends('app:approvals');
  const { items } = await createClient(fetch).listApprovals().catch(loadError);
  return { approvals: items };
};
