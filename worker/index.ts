import { buildApp } from './app';
import type { Env } from './env';

export { RunDO } from '../durable-objects/run-do';
export { AuditDO } from '../durable-objects/audit-do';

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
