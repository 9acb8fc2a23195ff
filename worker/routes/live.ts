import { Hono } from 'hono';
import { and, eq } from 'drizzle-orm';
import { makeDb } from '../db/client';
import { runs } from '../db/schema';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/errors';
import { runStub } from '../runs/create';

/** `GET /runs/{id}/live`: the WebSocket is accepted by the run's Durable Object (hibernatable). */
export const liveRoute = new Hono<AppEnv>().get('/runs/:id/live', async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('bad_request', 'Expected a WebSocket upgrade (Upgrade: websocket)', [{ path: 'header.Upgrade', message: 'must be websocket' }]);
  const p = c.get('principal');
  const id = c.req.param('id');
  const [row] = await makeDb(c.env.DB).select({ id: runs.id }).from(runs).where(and(eq(runs.id, id), eq(runs.tenantId, p.tenantId))).limit(1);
  if (!row) throw ApiError.notFound('Run');
  return runStub(c.env, p.tenantId, id).fetch(c.req.raw);
});
