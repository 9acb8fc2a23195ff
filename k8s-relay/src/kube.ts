import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, Observable, SelfDecodingBody, VersionApi, setHeaderOptions } from '@kubernetes/client-node';
import type { ConfigurationOptions, PatchStrategy } from '@kubernetes/client-node';
import { RelayError } from './errors';

/** The API groups the actions use, built once from one KubeConfig. */
export interface Kube {
  core: CoreV1Api;
  apps: AppsV1Api;
  version: VersionApi;
}

/**
 * In a pod, the ServiceAccount's mounted token and CA (`loadFromCluster`); elsewhere, the usual
 * kubeconfig lookup (`KUBECONFIG`, `~/.kube/config`), which is how the relay runs on a laptop.
 */
export function loadKubeConfig(env: Record<string, string | undefined> = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export function makeKube(kc: KubeConfig): Kube {
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), version: kc.makeApiClient(VersionApi) };
}

/**
 * Options for one API call: abort when the request's deadline passes, and for a PATCH the content
 * type (the generated client would otherwise send `application/json-patch+json` for every patch).
 */
export function callOptions(signal: AbortSignal, contentType?: PatchStrategy): ConfigurationOptions {
  const options: ConfigurationOptions = {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (res) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
  return contentType ? setHeaderOptions('Content-Type', contentType, options) : options;
}

/**
 * Call options that also keep the response's JSON as the API server sent it. The typed models
 * drop fields the library does not know, so anything written back whole (a rollback's pod
 * template) is taken from the raw JSON: a field newer than the library survives the round trip.
 */
export function keepingRaw(signal: AbortSignal): { options: ConfigurationOptions; raw(): unknown } {
  let text: string | undefined;
  const options = callOptions(signal);
  options.middleware?.push({
    pre: (ctx) => new Observable(Promise.resolve(ctx)),
    post: (res) =>
      new Observable(
        res.body.text().then((body) => {
          text = body;
          res.body = new SelfDecodingBody(Promise.resolve(Buffer.from(body)));
          return res;
        }),
      ),
  });
  return { options, raw: () => (text === undefined ? undefined : JSON.parse(text)) };
}

/** The `Status` object the API server sends with an error, when the body is one. */
export interface K8sStatus {
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export function apiStatus(err: ApiException<unknown>): K8sStatus | undefined {
  const body = err.body;
  if (typeof body === 'object' && body !== null) return body as K8sStatus;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as K8sStatus) : undefined;
  } catch {
    return undefined;
  }
}

export function isApiError(err: unknown, code: number): err is ApiException<unknown> {
  return err instanceof ApiException && err.code === code;
}

/**
 * Maps whatever an API call threw onto the relay's error codes. `what` names the object, e.g.
 * `node "ip-10-0-3-17"`, so the message reads well in a run's step error.
 */
export function toRelayError(err: unknown, what: string): RelayError {
  if (err instanceof RelayError) return err;
  if (err instanceof ApiException) {
    const status = apiStatus(err);
    const said = status?.message ? `: ${status.message}` : '';
    const code = err.code as number;
    if (code === 404) return new RelayError('not_found', `${what} not found`);
    if (code === 401) return new RelayError('forbidden', `the API server did not accept the relay's ServiceAccount credentials${said}`);
    if (code === 403) return new RelayError('forbidden', `the relay's ServiceAccount is not allowed to act on ${what} (check its ClusterRole)${said}`);
    if (code === 409) return new RelayError('conflict', `${what} was changed concurrently${said}`, true);
    if (code === 400 || code === 422) return new RelayError('rejected', `the API server rejected the change to ${what}${said}`);
    if (code === 429 || code >= 500) return new RelayError('api_unavailable', `the API server answered ${code} for ${what}${said}`, true);
    return new RelayError('api_unavailable', `unexpected answer ${code} from the API server for ${what}${said}`, true);
  }
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new RelayError('deadline_exceeded', `the request's deadline passed while working on ${what}`, true);
  }
  // node-fetch's FetchError carries the socket error's code; WHATWG fetch wraps it in `cause`.
  if (e?.name === 'FetchError' || (e?.name === 'TypeError' && e.cause)) {
    const why = (e as { code?: string }).code ?? e.cause?.code ?? e.cause?.message ?? 'network error';
    return new RelayError('api_unavailable', `cannot reach the Kubernetes API server (${why})`, true);
  }
  return new RelayError('internal', `unexpected failure on ${what}: ${e?.message ?? String(err)}`);
}

/** Runs one API call, mapping its failure; `what` names the object for the message. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toRelayError(err, what);
  }
}

export interface ApiServerStatus {
  reachable: boolean;
  checkedAt: string | null;
  latencyMs: number | null;
  version: string | null;
  error: string | null;
}

/** `GET /version`: cheap, allowed to every authenticated client, and proves credentials and network. */
export async function probeApiServer(kube: Kube, timeoutMs = 5000): Promise<ApiServerStatus> {
  const started = Date.now();
  const checkedAt = new Date(started).toISOString();
  try {
    const info = await kube.version.getCode(undefined, callOptions(AbortSignal.timeout(timeoutMs)));
    return { reachable: true, checkedAt, latencyMs: Date.now() - started, version: info.gitVersion, error: null };
  } catch (err) {
    return { reachable: false, checkedAt, latencyMs: null, version: null, error: toRelayError(err, 'the API server version').message };
  }
}
