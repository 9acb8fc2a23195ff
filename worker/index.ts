import { buildApp } from './app';
import type { Env } from './env';
import { sweepStalledRuns } from './runs/watchdog';
import { purgeEndedSessions } from './auth/session';
import { makeDb } from './db/client';

export { RunDO } from '../durable-objects/run-do';
export { AuditDO } from '../durable-objects/audit-do';
export { RateLimiterDO } from '../durable-objects/rate-limiter-do';
export { ClusterDO } from '../durable-objects/cluster-do';

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (_controller, env, ctx) => {
    ctx.waitUntil(sweepStalledRuns(env));
    ctx.waitUntil(purgeEndedSessions(makeDb(env.DB)));
  },
} satisfies ExportedHandler<Env>;
