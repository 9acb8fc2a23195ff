import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { ApiServerStatus } from './kube';

export interface HealthStatus {
  hubConnected: boolean;
  api: ApiServerStatus;
}

/**
 * `/healthz` (liveness): the process answers — restarting would not fix a hub or API-server
 * outage, so neither fails it. `/readyz` (readiness): connected to the hub and the API server
 * answered its last probe; 503 with the reason otherwise.
 */
export function startHealthServer(port: number, status: () => HealthStatus, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    if (path === '/healthz') return send(200, { ok: true });
    if (path === '/readyz') {
      const s = status();
      const ready = s.hubConnected && s.api.reachable;
      const reasons = [
        ...(s.hubConnected ? [] : ['not connected to the hub']),
        ...(s.api.reachable ? [] : [`Kubernetes API server not reachable${s.api.error ? `: ${s.api.error}` : ''}`]),
      ];
      return send(ready ? 200 : 503, {
        ready,
        reasons,
        hub: { connected: s.hubConnected },
        api_server: { reachable: s.api.reachable, checked_at: s.api.checkedAt, latency_ms: s.api.latencyMs, version: s.api.version },
      });
    }
    send(404, { error: 'not found' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
