import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ fetch, params, depends }) => {
  depends('app:runbook');
  return { runbook: await createClient(fetch).getRunbook(params.name).catch(loadError) };
};
