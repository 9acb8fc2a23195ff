import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, params }) => ({
  run: await createClient(fetch).getRun(params.id).catch(loadError),
});
