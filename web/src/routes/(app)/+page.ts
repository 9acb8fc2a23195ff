import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

const DAY_MS = 86_400_000;

// The dashboard: what is happening now, refreshed while the page is open (depends → invalidate).
export const load: PageLoad = async ({ fetch, depends, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  depends('app:dashboard');
  const client = createClient(fetch);
  const now = Date.now();
  const [summary, day, approvals] = await Promise.all([
    client.dashboard(),
    client.analytics({ from: new Date(now - DAY_MS).toISOString(), to: new Date(now).toISOString(), bucket: 'hour' }),
    client.listApprovals(),
  ]).catch(loadError);
  return { summary, day, approvals: approvals.items, loadedAt: new Date(now).toISOString() };
};
