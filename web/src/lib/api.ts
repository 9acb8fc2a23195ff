import type {
  Approval,
  ErrorDetail,
  List,
  Run,
  RunbookDetail,
  RunbookSummary,
  RunSummary,
  Session,
  StartRun,
  Step,
} from './types';

const BASE = '/api/v1';

/** Every failed call: the API's `{ error: { code, message, details? }, request_id }`, plus the status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly requestId?: string;

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = [], requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

type Fetch = typeof fetch;

/**
 * A client bound to one `fetch`: load functions pass SvelteKit's, components use `api`.
 * The session cookie is HttpOnly and same-origin, so nothing here handles credentials.
 */
export function createClient(fetchFn: Fetch = (input, init) => fetch(input, init)) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetchFn(BASE + path, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach the server. Check the connection and try again.');
    }
    const data: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
    if (!res.ok) throw toApiError(res, data);
    return data as T;
  }

  const enc = encodeURIComponent;
  return {
    signIn: (key: string) => call<Session>('POST', '/session', { key }),
    signOut: () => call<void>('DELETE', '/session'),
    me: () => call<Session>('GET', '/me'),

    listRunbooks: () => call<List<RunbookSummary>>('GET', '/runbooks'),
    getRunbook: (name: string) => call<RunbookDetail>('GET', `/runbooks/${enc(name)}`),

    listRuns: (limit = 50) => call<List<RunSummary>>('GET', `/runs?limit=${limit}`),
    getRun: (id: string) => call<Run>('GET', `/runs/${enc(id)}`),
    startRun: (body: StartRun) => call<{ id: string; status: string }>('POST', '/runs', body),
    cancelRun: (id: string) => call<Run>('POST', `/runs/${enc(id)}/cancel`, {}),
    decideStep: (runId: string, stepId: string, verdict: 'approve' | 'deny', comment?: string) =>
      call<Step>('POST', `/runs/${enc(runId)}/steps/${enc(stepId)}/${verdict}`, comment ? { comment } : {}),

    listApprovals: () => call<List<Approval>>('GET', '/approvals'),
  };
}

export type ApiClient = ReturnType<typeof createClient>;

/** The client for event handlers in components. */
export const api = createClient();

function toApiError(res: Response, data: unknown): ApiError {
  const body = isRecord(data) ? data : {};
  const error = isRecord(body.error) ? body.error : {};
  const code = typeof error.code === 'string' ? error.code : `http_${res.status}`;
  const message =
    typeof error.message === 'string' ? error.message : `The server answered ${res.status} ${res.statusText}`.trim();
  const details = Array.isArray(error.details) ? (error.details as ErrorDetail[]) : [];
  const requestId = typeof body.request_id === 'string' ? body.request_id : undefined;
  return new ApiError(res.status, code, message, details, requestId);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
