import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import { RUN_STATUSES } from '$lib/status';
import type { PageLoad } from './$types';

const PAGE = 50;

// Filters live in the URL (shareable, and Back restores them); `before` is the API's cursor.
export const load: PageLoad = async ({ fetch, url, depends, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  depends('app:runs');
  const statusParam = url.searchParams.get('status') ?? '';
  const status = RUN_STATUSES.find((s) => s === statusParam);
  const runbook = url.searchParams.get('runbook')?.trim() || undefined;
  const before = url.searchParams.get('before') || undefined;
  const client = createClient(fetch);
  const [page, runbooks] = await Promise.all([client.listRuns({ status, runbook, before, limit: PAGE }), client.listRunbooks()]).catch(loadError);
  return { runs: page.items, nextCursor: page.next_cursor, filters: { status: status ?? '', runbook: runbook ?? '', before: before ?? '' }, runbookNames: runbooks.items.map((r) => r.name) };
};
