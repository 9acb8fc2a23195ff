import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

/** A new policy version starts from the one named by `?from=` (the active one, usually). */
export const load: PageLoad = async ({ fetch, url, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  const from = url.searchParams.get('from');
  if (!from) return { from: null };
  const policy = await createClient(fetch).getPolicy(from).catch(loadError);
  return { from: { id: policy.id, name: policy.name, version: policy.version, yaml: policy.yaml } };
};
