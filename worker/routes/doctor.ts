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
    scope: z
      .enum(['installation', 'tenant'])
      .describe('installation: the platform owner sees bindings, secrets (names), migrations, LLM and tracing too; tenant: another tenant\'s admin sees only its integrations and relays'),
    checks: z.array(CheckSchema),
    migrations: z
      .object({
        expected: z.array(z.string()).describe('The D1 migrations this build of the Worker expects'),
        applied: z.array(z.string()).describe('What the database\'s d1_migrations table lists'),
      })
      .optional()
      .describe('Scope installation only'),
  })
  .openapi('DoctorReport');

/**
 * `GET /doctor`: how this installation stands (what `npm run doctor` reads). A tenant admin gets
 * their tenant's part; the platform owner's key gets the installation's too.
 */
export const doctorRoutes = router().openapi(
  route({ method: 'get', path: '/doctor', summary: 'Check the installation (platform owner: bindings, secrets by name, migrations, LLM provider) and this tenant\'s live integrations and relays', tags: ['meta'], response: ReportSchema }),
  async (c) => {
    await requireManage(c, 'run the doctor');
    const local = isLocalHost(new URL(c.req.url).hostname);
    const p = c.get('principal');
    return c.json(await runDoctor(c.env, p.tenantId, { local }, p.platformOwner ? 'installation' : 'tenant'), 200);
  },
);
