import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

const PAGE_SIZE = 50;
const FILTERS = ['action', 'resource_type', 'resource_id', 'actor_id'] as const;

// Entries in chain order; `after` is the last seq of the previous page. Filters live in the URL.
export const load: PageLoad = async ({ fetch, url, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  const filters = Object.fromEntries(FILTERS.map((f) => [f, url.searchParams.get(f)?.trim() ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const after = Math.max(0, Number(url.searchParams.get('after')) || 0);
  const page = await createClient(fetch)
    .listAudit({ after, limit: PAGE_SIZE, ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) })
    .catch(loadError);
  return { entries: page.items, nextAfter: page.next_after, after, filters };
};
