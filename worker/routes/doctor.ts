import { z } from '@hono/zod-openapi';
import { route, router } from '../api/route';
import { requireManage } from '../auth/permissions';
import { isLocalHost } from '../doctor/check';
import { runDoctor } from '../doctor';

const CheckSchema = z
  .object({
    id: z.string().describe('e.g. binding.DB, secret.SECRETS_KEY, migrations, integration.github, cluster.prod-eu'),
    status: z.enum(['ok', 'warn', 'fail']),
    message: z.string().describe('What was found; names settings, never their values'),
    fix: z.string().optional().describe('The command or setting that fixes it'),
  })
  .openapi('DoctorCheck');

const ReportSchema = z
  .object({
    ok: z.boolean().describe('No check failed (warnings allowed)'),
    checks: z.array(CheckSchema),
    migrations: z.object({
      expected: z.array(z.string()).describe('The D1 migrations this build of the Worker expects'),
      applied: z.array(z.string()).describe('What the database\'s d1_migrations table lists'),
    }),
  })
  .openapi('DoctorReport');

/** `GET /doctor`: how this installation stands, for a tenant admin (what `npm run doctor` reads). */
export const doctorRoutes = router().openapi(
  route({ method: 'get', path: '/doctor', summary: 'Check the installation: bindings, secrets (names only), migrations, LLM provider, this tenant\'s live integrations and relays', tags: ['meta'], response: ReportSchema }),
  async (c) => {
    await requireManage(c, 'run the doctor');
    const local = isLocalHost(new URL(c.req.url).hostname);
    return c.json(await runDoctor(c.env, c.get('principal').tenantId, { local }), 200);
  },
);
