import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import { resolveRange } from '$lib/ranges';
import type { PageLoad } from './$types';

// The range lives in the URL: `?range=7d`, or `?from=…&to=…` (dates), and `bucket`.
export const load: PageLoad = async ({ fetch, url, parent }) => {
  await parent(); // signed in first: see (app)/+layout.ts
  const range = resolveRange(url.searchParams, Date.now());
  const report = await createClient(fetch)
    .analytics({ from: range.from, to: range.to, bucket: range.bucket, top: 10 })
    .catch(loadError);
  return { report, range };
};
