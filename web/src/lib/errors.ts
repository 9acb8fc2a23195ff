import { error, redirect } from '@sveltejs/kit';
import { goto } from '$app/navigation';
import { ApiError } from './api';

/** The sign-in page, coming back to `next` afterwards. */
export function loginPath(next?: string): string {
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

/**
 * Only paths on this origin are followed after sign-in: never `https://…`, `//elsewhere`, or
 * `/\elsewhere` (which browsers read as `//elsewhere`).
 */
export function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/';
}

/**
 * For load functions: `.catch(loadError)`. A 401 goes to the sign-in page; any other API error
 * becomes the error page with the API's status, message and request id.
 */
export function loadError(e: unknown): never {
  if (!(e instanceof ApiError)) throw e;
  if (e.status === 401) redirect(307, loginPath());
  // A network failure has no status; the error page still needs one.
  const status = e.status >= 400 && e.status <= 599 ? e.status : 503;
  error(status, { message: e.message, code: e.code, request_id: e.requestId });
}

/**
 * For event handlers: a 401 goes to the sign-in page (and back here afterwards); anything else is
 * returned as an ApiError for the component to show next to the button that caused it.
 */
export function actionError(e: unknown): ApiError {
  const apiError = asApiError(e);
  if (apiError.status === 401) void goto(loginPath(location.pathname + location.search));
  return apiError;
}

/** Any thrown value as an ApiError, so that one component shows every failure the same way. */
export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'client', e instanceof Error ? e.message : String(e));
}
