import { z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../../k8s-relay/contract/protocol';
import { audit, route, router } from '../api/route';
import { listOf } from '../api/schemas';
import { requireManage } from '../auth/permissions';
import { limitSubject } from '../auth/rate-limit';
import { clusterStub, forgetCluster } from '../clusters/backend';
import { clusterForToken, getCluster, listClusters, registerCluster, revokeCluster, setClusterLabels, type ClusterRow } from '../clusters/store';
import { CONNECT_HEADERS, type RelayStatus } from '../clusters/types';
import { makeDb } from '../db/client';
import type { AppEnv, Env } from '../env';
import { ApiError, errorBody } from '../lib/errors';
import { labelsSchema } from '../policy/labels';

/** As the k8s tools validate their `cluster` argument: a DNS label. */
const ClusterName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and "-", at most 63 characters')
  .describe('The name runbooks use in the k8s tools\' `cluster` argument, e.g. "prod-eu"');

const NameParam = z.object({ name: z.string().min(1).max(63) });

const HealthSchema = z.object({
  ready: z.boolean(),
  api_server: z.object({ reachable: z.boolean(), checked_at: z.string().nullable(), latency_ms: z.number().nullable(), version: z.string().nullable(), error: z.string().nullable() }),
  in_flight: z.number(),
  uptime_s: z.number(),
});

const ClusterSchema = z
  .object({
    name: z.string(),
    labels: z.record(z.string(), z.string()).describe('What policies know about the cluster (`target.labels`)'),
    created_at: z.string(),
    created_by: z.string().nullable(),
    connected: z.boolean().describe('A relay holds the WebSocket and has said hello'),
    connected_at: z.string().nullable(),
    last_seen_at: z.string().nullable().describe('The last frame or heartbeat from the relay'),
    disconnected_at: z.string().nullable(),
    last_close: z.object({ code: z.number(), reason: z.string() }).nullable(),
    relay_version: z.string().nullable(),
    protocol: z.number().nullable(),
    allowlist: z.object({ namespaces: z.union([z.literal('*'), z.array(z.string())]), actions: z.array(z.string()) }).nullable().describe("The relay's own limits, from its hello"),
    capabilities: z.object({ actions: z.array(z.string()), dry_run: z.boolean(), max_log_lines: z.number(), signed_requests: z.boolean() }).nullable(),
    last_hello_at: z.string().nullable(),
    health: HealthSchema.nullable().describe("The relay's last health report"),
    last_health_at: z.string().nullable(),
    api_server_reachable: z.boolean().nullable().describe('Whether the relay reached the Kubernetes API server at its last probe'),
    pending_requests: z.number().describe('Requests sent to the relay (or waiting for it) and not answered yet'),
  })
  .openapi('Cluster');

const RevokedSchema = z.object({ name: z.string(), revoked_at: z.string() }).openapi('RevokedCluster');

type ClusterView = z.infer<typeof ClusterSchema>;

async function viewOf(env: Env, row: ClusterRow): Promise<ClusterView> {
  const status: RelayStatus = await clusterStub(env, row.tenantId, row.name).status();
  return { name: row.name, labels: row.labels ?? {}, created_at: row.createdAt, created_by: row.createdBy, ...status };
}

export const clusterRoutes = router()
  .openapi(
    route({
      method: 'post',
      path: '/clusters',
      summary: "Register a Kubernetes cluster; returns the relay's token (shown once)",
      tags: ['clusters'],
      body: z.object({ name: ClusterName, labels: labelsSchema.optional() }).strict(),
      response: z
        .object({ name: z.string(), labels: z.record(z.string(), z.string()), token: z.string().describe("The relay's CLUSTER_TOKEN; only its hash is kept") })
        .openapi('ClusterCreated'),
      status: 201,
    }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'register clusters');
      const { name, labels = {} } = c.req.valid('json');
      const { token } = await registerCluster(c.env, makeDb(c.env.DB), { tenantId: p.tenantId, name, createdBy: p.keyId, labels });
      forgetCluster(p.tenantId, name);
      await audit(c, { action: 'cluster.registered', resource: { type: 'cluster', id: name }, data: { name, labels } });
      return c.json({ name, labels, token }, 201);
    },
  )
  .openapi(
    route({
      method: 'patch',
      path: '/clusters/{name}',
      summary: "Replace a cluster's labels (what policies read as `target.labels`)",
      tags: ['clusters'],
      params: NameParam,
      body: z.object({ labels: labelsSchema }).strict(),
      response: z.object({ name: z.string(), labels: z.record(z.string(), z.string()) }).openapi('ClusterLabels'),
    }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'label clusters');
      const { name } = c.req.valid('param');
      const { labels } = c.req.valid('json');
      const db = makeDb(c.env.DB);
      const before = await getCluster(db, p.tenantId, name);
      const row = before && (await setClusterLabels(db, p.tenantId, name, labels));
      if (!row) throw ApiError.notFound('Cluster');
      // Labels decide approvals: who changed them, from what to what, is in the audit log.
      await audit(c, { action: 'cluster.labels_changed', resource: { type: 'cluster', id: name }, data: { name, before: before.labels ?? {}, after: labels } });
      return c.json({ name, labels: row.labels ?? {} }, 200);
    },
  )
  .openapi(route({ method: 'get', path: '/clusters', summary: "Registered clusters and their relays' status", tags: ['clusters'], response: listOf(ClusterSchema) }), async (c) => {
    const rows = await listClusters(makeDb(c.env.DB), c.get('principal').tenantId);
    return c.json({ items: await Promise.all(rows.map((row) => viewOf(c.env, row))) }, 200);
  })
  .openapi(route({ method: 'get', path: '/clusters/{name}', summary: "One cluster and its relay's status", tags: ['clusters'], params: NameParam, response: ClusterSchema }), async (c) => {
    const row = await getCluster(makeDb(c.env.DB), c.get('principal').tenantId, c.req.valid('param').name);
    if (!row) throw ApiError.notFound('Cluster');
    return c.json(await viewOf(c.env, row), 200);
  })
  .openapi(
    route({ method: 'delete', path: '/clusters/{name}', summary: "Revoke a cluster's token: its relay is disconnected and its calls fail", tags: ['clusters'], params: NameParam, response: RevokedSchema }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'revoke clusters');
      const { name } = c.req.valid('param');
      const row = await revokeCluster(makeDb(c.env.DB), p.tenantId, name);
      if (!row) throw ApiError.notFound('Cluster');
      forgetCluster(p.tenantId, name);
      // The row is what counts: new calls are refused (the object reads the row before sending) and so
      // are new connections (the connect route does), so failing to reach the object now only leaves
      // the old socket open until it drops.
      await clusterStub(c.env, p.tenantId, name)
        .revoke()
        .catch((err: unknown) => console.warn(JSON.stringify({ level: 'warn', message: 'could not disconnect a revoked cluster\'s relay', tenant_id: p.tenantId, cluster: name, error: String(err) })));
      await audit(c, { action: 'cluster.revoked', resource: { type: 'cluster', id: name }, data: { name } });
      return c.json({ name, revoked_at: row.revokedAt! }, 200);
    },
  );

/** Connection attempts per client address and minute: relays reconnect with backoff, guessers do not. */
const CONNECT_RATE = { requests_per_minute: 120, burst: 30 };

/**
 * `GET /clusters/{name}/connect`: the relay's WebSocket. Authenticated by the cluster's token
 * (not an API key), so it is mounted before `authenticate`; the tenant comes from the token. The
 * socket is accepted by the cluster's Durable Object (hibernatable).
 */
export const clusterConnectRoute = new Hono<AppEnv>().get('/clusters/:name/connect', async (c) => {
  const ip = c.req.header('cf-connecting-ip');
  if (ip) await limitSubject(c, `ip:${ip}:cluster-connect`, CONNECT_RATE);
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('bad_request', 'Expected a WebSocket upgrade (Upgrade: websocket)');
  const [scheme, token] = (c.req.header('authorization') ?? '').trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() !== 'bearer' || !token) throw new ApiError('unauthorized', 'Authorization must be "Bearer <cluster token>"');
  const name = c.req.param('name');
  const row = await clusterForToken(makeDb(c.env.DB), token);
  // One answer for an unknown, revoked or other cluster's token: nothing to learn by probing.
  if (!row || row.name !== name) throw new ApiError('unauthorized', `The token is not valid for cluster "${name}" (unknown or revoked)`);
  if (c.req.header(PROTOCOL_HEADER) !== String(PROTOCOL_VERSION)) {
    return c.json(errorBody('bad_request', `Unsupported relay protocol "${c.req.header(PROTOCOL_HEADER) ?? 'none'}": this hub speaks ${PROTOCOL_VERSION} (send ${PROTOCOL_HEADER}); upgrade the relay`, c.get('requestId')), 426);
  }
  const headers = new Headers(c.req.raw.headers);
  headers.delete('authorization');
  headers.set(CONNECT_HEADERS.tenant, row.tenantId);
  headers.set(CONNECT_HEADERS.cluster, row.name);
  headers.set(CONNECT_HEADERS.tokenHash, row.tokenHash);
  return clusterStub(c.env, row.tenantId, row.name).fetch(new Request(c.req.raw.url, { method: 'GET', headers }));
});
