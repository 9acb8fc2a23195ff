import type { OperationKey, Operations, Schemas } from './api-types';
import type { ApiKeyView, ClusterCreated, ClusterStatus, EvalReport, EvalReportSummary, ErrorDetail, List, RunbookDetail, ShadowReport } from './types';

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

/**
 * The server has no such route (yet): its 404 for unknown paths, as opposed to "Run not found".
 * Pages built ahead of an endpoint show "not available on this server" instead of an error.
 */
export function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && /^No (route for|such API route)/.test(e.message);
}

type Op<K extends OperationKey> = Operations[K];
type PathArgs<K extends OperationKey> = Op<K> extends { path: infer P } ? { path: P } : { path?: never };
type QueryArgs<K extends OperationKey> = Op<K> extends { query: infer Q } ? { query?: Q } : { query?: never };
type BodyArgs<K extends OperationKey> = Op<K> extends { body: infer B } ? { body: B } : Op<K> extends { body?: infer B } ? { body?: B } : { body?: never };
/** What a call needs: path parameters, query and body, each typed from the OpenAPI document. */
export type RequestArgs<K extends OperationKey> = PathArgs<K> & QueryArgs<K> & BodyArgs<K>;
export type ResponseOf<K extends OperationKey> = Op<K>['response'];
type ArgsTuple<K extends OperationKey> = object extends RequestArgs<K> ? [args?: RequestArgs<K>] : [args: RequestArgs<K>];

type Fetch = typeof fetch;
type Query = Record<string, string | number | boolean | null | undefined>;

/**
 * A client bound to one `fetch`: load functions pass SvelteKit's, components use `api`.
 * The session cookie is HttpOnly and same-origin, so nothing here handles credentials.
 */
export function createClient(fetchFn: Fetch = (input, init) => fetch(input, init)) {
  /** Any call, typed by hand: for endpoints the OpenAPI document does not describe yet. */
  async function raw<T>(method: string, path: string, body?: unknown, query?: Query, extraHeaders: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetchFn(BASE + path + queryString(query), {
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

  /** A call described by the OpenAPI document: `request('GET /runs/{id}', { path: { id } })`. */
  function request<K extends OperationKey>(key: K, ...[args]: ArgsTuple<K>): Promise<ResponseOf<K>> {
    return requestWith(key, {}, ...([args] as ArgsTuple<K>));
  }

  /** `request` with request headers (an Idempotency-Key). */
  function requestWith<K extends OperationKey>(key: K, headers: Record<string, string>, ...[args]: ArgsTuple<K>): Promise<ResponseOf<K>> {
    const space = key.indexOf(' ');
    const method = key.slice(0, space);
    const a = (args ?? {}) as { path?: Record<string, unknown>; query?: Query; body?: unknown };
    const path = key.slice(space + 1).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(a.path?.[name] ?? '')));
    return raw<ResponseOf<K>>(method, path, a.body, a.query, headers);
  }

  return {
    request,
    raw,

    signIn: (key: string) => request('POST /session', { body: { key } }),
    signOut: () => request('DELETE /session'),
    /** The browser's session, or null when signed out (answered 200 either way: no console error). */
    session: async () => {
      const state = await request('GET /session');
      return state.signed_in && state.me ? state.me : null;
    },

    listRunbooks: (archived = false) => request('GET /runbooks', { query: archived ? { archived: 'true' } : {} }),
    getRunbook: async (name: string, version?: number) => (await request('GET /runbooks/{id}', { path: { id: name }, query: { version } })) as unknown as RunbookDetail,
    createRunbook: (yaml: string) => request('POST /runbooks', { body: { yaml } }),
    updateRunbook: (name: string, yaml: string) => request('PUT /runbooks/{id}', { path: { id: name }, body: { yaml } }),
    /** Runbook checks without saving; answers `{ ok, warnings }` or a 400 with the problems. */
    validateRunbook: (yaml: string) => raw<{ ok: true; warnings?: ErrorDetail[] }>('POST', '/runbooks/validate', { yaml }),

    listRuns: (query: RequestArgs<'GET /runs'>['query'] = {}) => request('GET /runs', { query }),
    getRun: (id: string) => request('GET /runs/{id}', { path: { id } }),
    /** With an idempotency key, sending the same start again answers with the run the first one made. */
    startRun: (body: Schemas['CreateRun'], idempotencyKey?: string) =>
      requestWith('POST /runs', idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}, { body }),
    cancelRun: (id: string, compensate = false) => request('POST /runs/{id}/cancel', { path: { id }, body: { compensate } }),
    retryCompensation: (id: string) => request('POST /runs/{id}/compensate', { path: { id } }),
    stepResult: (id: string, stepId: string) => request('GET /runs/{id}/steps/{stepId}/result', { path: { id, stepId } }),
    decideStep: (runId: string, stepId: string, verdict: 'approve' | 'deny', comment?: string) =>
      request(verdict === 'approve' ? 'POST /runs/{id}/steps/{stepId}/approve' : 'POST /runs/{id}/steps/{stepId}/deny', {
        path: { id: runId, stepId },
        body: comment ? { comment } : {},
      }),
    getTrace: (id: string) => request('GET /runs/{id}/trace', { path: { id } }),
    getShadow: (id: string) => raw<ShadowReport>('GET', `/runs/${encodeURIComponent(id)}/shadow`),
    listApprovals: () => request('GET /approvals'),

    listPolicies: () => request('GET /policies'),
    getPolicy: (id: string) => request('GET /policies/{id}', { path: { id } }),
    createPolicy: (yaml: string) => request('POST /policies', { body: { yaml } }),
    validatePolicy: (yaml: string) => request('POST /policies/validate', { body: { yaml } }),
    activatePolicy: (id: string) => request('POST /policies/{id}/activate', { path: { id } }),
    diffPolicy: (id: string, against: string) => request('GET /policies/{id}/diff', { path: { id }, query: { against } }),
    simulatePolicy: (id: string, runs: number) => request('POST /policies/{id}/simulate', { path: { id }, body: { runs } }),

    listAudit: (query: RequestArgs<'GET /audit'>['query'] = {}) => request('GET /audit', { query }),
    verifyAudit: () => request('GET /audit/verify'),

    analytics: (query: RequestArgs<'GET /analytics'>['query'] = {}) => request('GET /analytics', { query }),
    dashboard: () => request('GET /analytics/summary'),

    listKeys: async () => (await request('GET /keys')) as { items: ApiKeyView[] },
    /** `owner`: the email of the person the key is for (default: whoever creates it). */
    createKey: (name: string, role: Schemas['Me']['key']['role'], owner?: string) => request('POST /keys', { body: { name, role, ...(owner ? { owner } : {}) } }),
    revokeKey: async (id: string) => (await request('DELETE /keys/{id}', { path: { id } })) as ApiKeyView,
    rotateKey: (id: string, grace: string) => request('POST /keys/{id}/rotate', { path: { id }, body: { grace } }),

    getSettings: () => request('GET /settings'),
    putSettings: (body: RequestArgs<'PUT /settings'>['body']) => request('PUT /settings', { body }),

    listIntegrations: () => request('GET /integrations'),
    putIntegration: (vendor: Schemas['Integration']['vendor'], body: RequestArgs<'PUT /integrations/{vendor}'>['body']) =>
      request('PUT /integrations/{vendor}', { path: { vendor }, body }),
    testIntegration: (vendor: Schemas['Integration']['vendor']) => request('POST /integrations/{vendor}/test', { path: { vendor } }),

    listClusters: () => raw<List<ClusterStatus>>('GET', '/clusters'),
    createCluster: (name: string, labels?: Record<string, string>) => raw<ClusterCreated>('POST', '/clusters', labels ? { name, labels } : { name }),
    labelCluster: (name: string, labels: Record<string, string>) => request('PATCH /clusters/{name}', { path: { name }, body: { labels } }),
    revokeCluster: (name: string) => raw<{ name: string; revoked_at: string }>('DELETE', `/clusters/${encodeURIComponent(name)}`),

    listEvals: () => raw<List<EvalReportSummary>>('GET', '/evals'),
    getEval: (id: string) => raw<EvalReport>('GET', `/evals/${encodeURIComponent(id)}`),
  };
}

export type ApiClient = ReturnType<typeof createClient>;

/** The client for event handlers in components. */
export const api = createClient();

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

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
