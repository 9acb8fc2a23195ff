import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { FakeCluster, matchesLabels } from './fake-cluster';
import type { Obj } from './fake-cluster';

/**
 * A fake Kubernetes API server on plain node:http, speaking the REST paths, content types and
 * `Status` errors of the real one for the endpoints the relay uses, so the relay's real
 * @kubernetes/client-node calls are what is tested. Every request is logged (to prove, say, that
 * a replayed idempotency key did not reach the API server), and faults can be injected.
 */

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
  status: number;
}

export interface Fault {
  method?: string;
  path: RegExp;
  /** Answer with this status (a generic `Status` body) instead of serving the request. */
  status?: number;
  /** Wait this long before answering (or serving). */
  delayMs?: number;
  /** How many requests it applies to (default 1). */
  times?: number;
}

type Reply = { status: number; body: unknown; text?: boolean };
type Handler = (m: string[], query: URLSearchParams, body: unknown, contentType: string | undefined) => Reply;

const statusBody = (code: number, reason: string, message: string, details?: Obj) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});
const REASONS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' };
const fail = (code: number, message: string, details?: Obj): Reply => ({ status: code, body: statusBody(code, REASONS[code] ?? 'Unknown', message, details) });
const notFound = (resource: string, name: string): Reply => fail(404, `${resource} "${name}" not found`, { name, kind: resource });
const ok = (body: unknown, status = 200): Reply => ({ status, body });

/** RFC 7386 JSON merge patch (what merge- and, for the fields the relay patches, strategic-merge patches do). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch, for the operations the relay and kubectl send (add, replace, remove, test). */
export function jsonPatch(target: Obj, ops: Obj[]): Obj {
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = String(op.path).split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: Obj = doc;
    for (const p of parts) parent = parent[p] ??= {};
    if (op.op === 'add' || op.op === 'replace') parent[last] = structuredClone(op.value);
    else if (op.op === 'remove') delete parent[last];
    else if (op.op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test operation failed at ${op.path}`);
    else if (!['add', 'replace', 'remove', 'test'].includes(op.op)) throw new Error(`unsupported op ${op.op}`);
  }
  return doc;
}

export class FakeApiServer {
  readonly cluster = new FakeCluster();
  readonly requests: LoggedRequest[] = [];
  /** Requests as they arrive, before any answer (a request held by a fault shows here first). */
  readonly arrivals: { method: string; path: string }[] = [];
  readonly token = 'fake-sa-token';
  url = '';
  private faults: Fault[] = [];
  private server: Server | null = null;
  private readonly routes: [string, RegExp, Handler][];

  constructor() {
    const c = this.cluster;
    const NS = '/namespaces/([^/]+)';
    this.routes = [
      ['GET', /^\/version$/, () => ok({ major: '1', minor: '31', gitVersion: 'v1.31.2', platform: 'linux/amd64' })],
      ['GET', /^\/api\/v1\/nodes\/([^/]+)$/, ([, n]) => (c.nodes.has(n!) ? ok(c.nodes.get(n!)) : notFound('nodes', n!))],
      ['PATCH', /^\/api\/v1\/nodes\/([^/]+)$/, ([, n], q, body, type) => this.patch(c.nodes, n!, 'nodes', q, body, type)],
      ['GET', /^\/api\/v1\/pods$/, (_, q) => this.listPods(q)],
      ['GET', new RegExp(`^/api/v1${NS}/pods/([^/]+)$`), ([, ns, n]) => (c.pods.has(`${ns}/${n}`) ? ok(c.pods.get(`${ns}/${n}`)) : notFound('pods', n!))],
      ['GET', new RegExp(`^/api/v1${NS}/pods/([^/]+)/log$`), ([, ns, n], q) => this.log(ns!, n!, q)],
      ['POST', new RegExp(`^/api/v1${NS}/pods/([^/]+)/eviction$`), ([, ns, n], q, body) => this.evict(ns!, n!, q, body as Obj)],
      ['GET', new RegExp(`^/apis/apps/v1${NS}/deployments/([^/]+)$`), ([, ns, n]) => this.get(c.deployments, `${ns}/${n}`, 'deployments.apps')],
      ['PATCH', new RegExp(`^/apis/apps/v1${NS}/deployments/([^/]+)$`), ([, ns, n], q, body, type) => this.patch(c.deployments, `${ns}/${n}`, 'deployments.apps', q, body, type)],
      ['GET', new RegExp(`^/apis/apps/v1${NS}/deployments/([^/]+)/scale$`), ([, ns, n]) => this.scale(ns!, n!)],
      ['PATCH', new RegExp(`^/apis/apps/v1${NS}/deployments/([^/]+)/scale$`), ([, ns, n], q, body, type) => this.scale(ns!, n!, q, body, type)],
      ['GET', new RegExp(`^/apis/apps/v1${NS}/replicasets$`), ([, ns], q) => this.listReplicaSets(ns!, q)],
    ];
  }

  static async start(): Promise<FakeApiServer> {
    const api = new FakeApiServer();
    api.server = createServer((req, res) => void api.serve(req, res));
    await new Promise<void>((resolve) => api.server!.listen(0, '127.0.0.1', resolve));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** A kubeconfig for this server with a bearer token, as `loadFromDefault` would build from a file. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'relay', token: this.token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'relay' }],
      currentContext: 'fake',
    });
    return kc;
  }

  fault(f: Fault): void {
    this.faults.push({ times: 1, ...f });
  }

  /** Requests with this method whose path matches, e.g. `count('POST', /eviction$/)`. */
  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.arrivals.push({ method: req.method ?? 'GET', path: url.pathname });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const contentType = req.headers['content-type']?.split(';')[0];
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // Not JSON: kept as text; a handler that needs JSON answers 400.
    }
    const method = req.method ?? 'GET';
    const reply = await this.dispatch(method, url, body, contentType, req.headers.authorization);
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), contentType, body, status: reply.status });
    res.writeHead(reply.status, { 'content-type': reply.text ? 'text/plain' : 'application/json' });
    res.end(reply.text ? String(reply.body) : JSON.stringify(reply.body));
  }

  private async dispatch(method: string, url: URL, body: unknown, contentType: string | undefined, auth: string | undefined): Promise<Reply> {
    const fault = this.faults.find((f) => (!f.method || f.method === method) && f.path.test(url.pathname) && (f.times ?? 1) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.status) return fail(fault.status, `injected ${fault.status}`);
    }
    if (auth !== `Bearer ${this.token}`) return fail(401, 'Unauthorized');
    for (const [m, re, handler] of this.routes) {
      const match = m === method ? re.exec(url.pathname) : null;
      if (!match) continue;
      try {
        return handler(match.slice(0).map(decodeURIComponent), url.searchParams, body, contentType);
      } catch (err) {
        return fail(422, String((err as Error).message));
      }
    }
    return fail(404, `the server could not find the requested resource (${method} ${url.pathname})`);
  }

  private get(store: Map<string, Obj>, key: string, resource: string): Reply {
    const obj = store.get(key);
    return obj ? ok(obj) : notFound(resource, key.split('/').pop()!);
  }

  /** PATCH with the content types the API server accepts; `dryRun=All` answers without storing. */
  private patch(store: Map<string, Obj>, key: string, resource: string, q: URLSearchParams, body: unknown, type: string | undefined): Reply {
    const current = store.get(key);
    if (!current) return notFound(resource, key.split('/').pop()!);
    let next: Obj;
    if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') next = mergePatch(current, body) as Obj;
    else if (type === 'application/json-patch+json') {
      if (!Array.isArray(body)) return fail(400, 'json patch must be an array of operations');
      next = jsonPatch(current, body as Obj[]);
    } else return fail(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${type})`);
    next.metadata = { ...next.metadata, resourceVersion: this.cluster.nextVersion() };
    if (JSON.stringify(next.spec) !== JSON.stringify(current.spec) && next.metadata.generation) next.metadata.generation += 1;
    if (q.get('dryRun') === 'All') return ok(next);
    store.set(key, next);
    if (next.kind === 'Deployment') this.cluster.reconcile(next);
    return ok(next);
  }

  private scale(ns: string, name: string, q?: URLSearchParams, body?: unknown, type?: string): Reply {
    const dep = this.cluster.deployments.get(`${ns}/${name}`);
    if (!dep) return notFound('deployments.apps', name);
    if (q && type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') return fail(415, `unsupported patch type ${type}`);
    const replicas = q ? ((body as Obj)?.spec?.replicas as number) : dep.spec.replicas;
    if (q && q.get('dryRun') !== 'All') {
      dep.spec.replicas = replicas;
      dep.metadata.resourceVersion = this.cluster.nextVersion();
      this.cluster.reconcile(dep);
    }
    const selector = Object.entries(dep.spec.selector.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
    return ok({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace: ns, resourceVersion: dep.metadata.resourceVersion }, spec: { replicas }, status: { replicas: dep.status.replicas, selector } });
  }

  private listPods(q: URLSearchParams): Reply {
    const fields: [string, string][] = [];
    for (const term of (q.get('fieldSelector') ?? '').split(',').filter(Boolean)) {
      const m = /^([a-zA-Z.]+)==?(.*)$/.exec(term);
      if (!m || !['spec.nodeName', 'metadata.name', 'metadata.namespace', 'status.phase'].includes(m[1]!)) return fail(400, `field label not supported: ${term}`);
      fields.push([m[1]!, m[2]!]);
    }
    const field = (pod: Obj, path: string) => path.split('.').reduce((o: Obj | undefined, k) => o?.[k], pod);
    const items = [...this.cluster.pods.values()].filter((p) => fields.every(([path, v]) => (field(p, path) as unknown) === v));
    return ok({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: this.cluster.nextVersion() }, items });
  }

  private listReplicaSets(ns: string, q: URLSearchParams): Reply {
    const selector: Record<string, string> = {};
    for (const term of (q.get('labelSelector') ?? '').split(',').filter(Boolean)) {
      const m = /^([^=!]+)==?(.*)$/.exec(term);
      if (!m) return fail(400, `unable to parse requirement: ${term}`);
      selector[m[1]!] = m[2]!;
    }
    const items = [...this.cluster.replicaSets.values()].filter((rs) => rs.metadata.namespace === ns && matchesLabels(rs.metadata.labels, selector));
    return ok({ apiVersion: 'apps/v1', kind: 'ReplicaSetList', metadata: { resourceVersion: this.cluster.nextVersion() }, items });
  }

  private log(ns: string, name: string, q: URLSearchParams): Reply {
    const pod = this.cluster.pods.get(`${ns}/${name}`);
    if (!pod) return notFound('pods', name);
    const containers = (pod.spec.containers as Obj[]).map((c) => c.name as string);
    const container = q.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container) return fail(400, `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    if (!containers.includes(container)) return fail(400, `container ${container} is not valid for pod ${name}`);
    let lines = (this.cluster.logs.get(`${ns}/${name}`)?.[container] ?? '').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const tail = q.get('tailLines');
    if (tail !== null) lines = lines.slice(-Number(tail));
    let text = lines.map((l) => `${l}\n`).join('');
    const limit = q.get('limitBytes');
    if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString();
    return { status: 200, body: text, text: true };
  }

  private evict(ns: string, name: string, q: URLSearchParams, body: Obj | undefined): Reply {
    const pod = this.cluster.pods.get(`${ns}/${name}`);
    if (!pod) return notFound('pods', name);
    if (body?.kind !== 'Eviction' || body.metadata?.name !== name) return fail(400, 'name in URL does not match name in Eviction object');
    const uid = body.deleteOptions?.preconditions?.uid;
    if (uid && uid !== pod.metadata.uid) {
      return fail(409, `Operation cannot be fulfilled on Pod "${name}": the UID in the precondition (${uid}) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`);
    }
    const dryRun = q.get('dryRun') === 'All' || (body.deleteOptions?.dryRun ?? []).includes('All');
    const decision = this.cluster.evict(pod, dryRun);
    if (decision.code === 201) return ok({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, 201);
    return fail(decision.code, decision.message, decision.cause ? { causes: [{ reason: 'DisruptionBudget', message: decision.cause }] } : undefined);
  }
}
