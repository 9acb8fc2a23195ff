import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { errorFields, log } from '../observability/log';
import type { SourceError } from '../runbooks/types';

const STATUS = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
  line?: number;
}

/** The one error the API throws; `handleError` turns it into the one body shape. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return STATUS[this.code];
  }

  static notFound(what: string): ApiError {
    return new ApiError('not_found', `${what} not found`);
  }

  static validation(details: ErrorDetail[] | SourceError[], message = 'Validation failed'): ApiError {
    // A problem with the document as a whole (not one of its fields) still names where it is.
    return new ApiError('validation_failed', message, details.map((d) => (d.path ? d : { ...d, path: '(document)' })));
  }
}

/** Formats zod issues as `{ path, message }`, with paths like `inputs.node` or `steps[2].tool`. */
export function zodDetails(error: ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: formatPath(prefix, issue.path),
    message: issue.message,
  }));
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: ErrorDetail[]) {
  return { error: { code, message, ...(details?.length ? { details } : {}) }, request_id: requestId };
}

const HTTP_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** The one error handler: every failure leaves the API in the same shape. */
export function handleError(err: unknown, c: Context): Response {
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  if (err instanceof ApiError) {
    return c.json(errorBody(err.code, err.message, requestId, err.details), err.status as 400);
  }
  if (err instanceof ZodError) {
    return c.json(errorBody('validation_failed', 'Validation failed', requestId, zodDetails(err)), 400);
  }
  if (err instanceof HTTPException) {
    const code = HTTP_CODES[err.status] ?? 'bad_request';
    const message = err.message || 'Request failed';
    // Hono's 400s are about the body as a whole (e.g. JSON that does not parse).
    const details = err.status === 400 ? [{ path: '(body)', message }] : undefined;
    return c.json(errorBody(code, message, requestId, details), err.status);
  }
  // Unknown failures are logged (redacted, with the request id and trace) and answered without internals.
  log.error('unhandled error', { request_id: requestId, method: c.req.method, path: new URL(c.req.url).pathname, error: errorFields(err) });
  return c.json(errorBody('internal', 'Internal error', requestId), 500);
}
