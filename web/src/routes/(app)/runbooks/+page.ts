import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  const { items } = await createClient(fetch).listRunbooks().catch(loadError);
  return { runbooks: items };
};
