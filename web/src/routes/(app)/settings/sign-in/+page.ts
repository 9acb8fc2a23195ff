import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends }) => {
  depends('app:settings');
  return { settings: await createClient(fetch).getSettings().catch(loadError) };
};
