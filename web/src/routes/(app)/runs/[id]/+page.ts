import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, params, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  return { run: await createClient(fetch).getRun(params.id).catch(loadError) };
};
