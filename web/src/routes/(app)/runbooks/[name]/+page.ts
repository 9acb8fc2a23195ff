import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, params }) => ({
  runbook: await createClient(fetch).getRunbook(params.name).catch(loadError),
});
