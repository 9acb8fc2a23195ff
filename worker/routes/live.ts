import { Hono } from 'hono';
import { makeDb } from '../db/client';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/errors';
import { runStub } from '../runs/client';
import { runExists } from '../runs/mirror';
import { WATCHER_HEADER } from '../runs/live-view';
import { credentialOf } from '../auth/credential-standing';

/** `GET /runs/{id}/live`: the WebSocket is accepted by the run's Durable Object (hibernatable). */
export const liveRoute = new Hono<AppEnv>().get('/runs/:id/live', async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('bad_request', 'Expected a WebSocket upgrade (Upgrade: websocket)', [{ path: 'header.Upgrade', message: 'must be websocket' }]);
  const p = c.get('principal');
  const id = c.req.param('id');
  if (!(await runExists(makeDb(c.env.DB), p.tenantId, id))) throw ApiError.notFound('Run');
  // The socket remembers who opened it, so it ends with their key or session (live-view.ts).
  const headers = new Headers(c.req.raw.headers);
  headers.set(WATCHER_HEADER, JSON.stringify({ cred: credentialOf(p), ...(p.session ? { expires_at: Date.parse(p.session.expiresAt) } : {}) }));
  return runStub(c.env, p.tenantId, id).fetch(new Request(c.req.raw.url, { method: 'GET', headers }));
});
