import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ fetch, params, depends, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  depends('app:runbook');
  return { runbook: await createClient(fetch).getRunbook(params.name).catch(loadError) };
};
