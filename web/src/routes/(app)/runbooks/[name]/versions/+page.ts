import { createClient } from '$lib/api';
import { loadError } from '$lib/errors';
import type { PageLoad } from './$types';

// Compares two versions (`?from=&to=`; default: the one before the latest, and the latest).
export const load: PageLoad = async ({ fetch, params, parent, url }) => {
  const { runbook } = await parent();
  const latest = runbook.version;
  const pick = (name: string, fallback: number) => {
    const n = Number(url.searchParams.get(name));
    return Number.isInteger(n) && n >= 1 && n <= latest ? n : fallback;
  };
  const to = pick('to', latest);
  const from = pick('from', Math.max(1, to - 1));
  const client = createClient(fetch);
  const [a, b] = await Promise.all([client.getRunbook(params.name, from), client.getRunbook(params.name, to)]).catch(loadError);
  return { from, to, fromYaml: a.yaml, toYaml: b.yaml };
};
