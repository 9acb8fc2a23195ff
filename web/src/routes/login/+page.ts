import { redirect } from '@sveltejs/kit';
import { createClient } from '$lib/api';
import { safeNext } from '$lib/errors';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, url }) => {
  const next = safeNext(url.searchParams.get('next'));
  // Someone already signed in has nothing to do here.
  const session = await createClient(fetch).session().catch(() => null);
  if (session) redirect(307, next);
  // A failed single sign-on comes back here with the provider's (or our) reason.
  const ssoError = url.searchParams.get('error');
  return {
    next,
    tenant: url.searchParams.get('tenant') ?? '',
    ssoError: ssoError ? { code: ssoError, description: url.searchParams.get('error_description') ?? '' } : null,
  };
};
