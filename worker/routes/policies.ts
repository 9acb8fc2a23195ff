import { z } from '@hono/zod-openapi';
import { readYamlDocument } from '../api/body';
import { audit, route, router } from '../api/route';
import { CreatedDocSchema, DecisionSchema, IdParam, listOf } from '../api/schemas';
import { requireRole } from '../auth/middleware';
import { requireKeepsManage, requireManage } from '../auth/permissions';
import type { Policy } from '../policy/schema';
import { makeDb } from '../db/client';
import { ApiError } from '../lib/errors';
import { diffPolicies, unifiedDiff } from '../policy/diff';
import { factsSource } from '../policy/facts-load';
import { lacksFacts, simulatePolicy, type RecordedRun } from '../policy/simulate';
import { activatePolicy, createPolicy, findPolicy, getPolicy, listPolicies, recentRunRecords, validatePolicyDocument } from '../store/policies';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];

const PolicySummary = z.object({ id: z.string(), name: z.string(), version: z.number(), active: z.boolean(), created_at: z.string() }).openapi('PolicySummary');
const PolicyRef = z.object({ id: z.string(), name: z.string(), version: z.number() }).openapi('PolicyRef');
const Located = z.object({ path: z.string(), line: z.number().optional(), message: z.string() }).openapi('LocatedMessage');

const Validated = z
  .object({ ok: z.literal(true), name: z.string(), warnings: z.array(Located).describe('Problems that do not block saving, e.g. a tool pattern that matches no tool') })
  .openapi('PolicyValidation');

const PolicyChange = z
  .object({
    kind: z.enum(['metadata', 'role', 'rule', 'budgets', 'limit']),
    change: z.enum(['added', 'removed', 'changed']),
    name: z.string().optional(),
    fields: z.array(z.object({ field: z.string(), before: z.unknown().optional(), after: z.unknown().optional() })).optional(),
    message: z.string(),
  })
  .openapi('PolicyChange');

const PolicyDiff = z
  .object({ from: PolicyRef, to: PolicyRef, changes: z.array(PolicyChange), unified: z.string().describe('Unified diff of the two YAML documents') })
  .openapi('PolicyDiff');

/** The most runs one simulation replays: enough for a week of a busy team, bounded in time and memory. */
const MAX_SIMULATED_RUNS = 500;

const SimulateBody = z
  .object({ runs: z.number().int().min(1).max(MAX_SIMULATED_RUNS).default(50).describe('How many of the most recent runs (with recorded steps) to replay') })
  .strict()
  .openapi('SimulatePolicy');

const Simulation = z
  .object({
    policy: PolicyRef,
    runs_considered: z.number(),
    steps_considered: z.number(),
    steps_skipped: z.number().describe('Steps without recorded arguments or decision, with a tool no longer in the catalog, or of runs without a recorded role'),
    changed: z.array(
      z.object({ run_id: z.string(), runbook: z.string(), step_id: z.string(), tool: z.string(), before: DecisionSchema.describe('As recorded, without budget and limit reasons (they are not replayed)'), after: DecisionSchema }),
    ),
    truncated: z.boolean().describe('`changed` lists at most 500 entries; `summary` counts all'),
    summary: z.record(z.string(), z.number()).describe('Changes by transition, e.g. { "allow→deny": 2 }; require_approval→require_approval counts approvals asked of other people'),
  })
  .openapi('PolicySimulation');

/** Steps recorded before decisions kept their facts are replayed on the facts the server knows today. */
async function withTodaysFacts(db: ReturnType<typeof makeDb>, tenantId: string, runs: RecordedRun[]): Promise<RecordedRun[]> {
  const source = factsSource(db, tenantId);
  const now = Date.now();
  for (const run of runs) {
    for (const step of run.steps) {
      if (!lacksFacts(step) || typeof step.args !== 'object' || step.args === null) continue;
      step.facts = await source.forCall(step.tool, step.args as Record<string, unknown>, now);
    }
  }
  return runs;
}

export const policyRoutes = router()
  .openapi(
    route({
      method: 'post',
      path: '/policies',
      summary: 'Save a policy version from YAML',
      tags: ['policies'],
      body: z.object({ yaml: z.string() }),
      rawBody: YAML_TYPES,
      response: CreatedDocSchema.extend({ warnings: z.array(Located) }),
      status: 201,
    }),
    async (c) => {
      const p = c.get('principal');
      await requireManage(c, 'manage policies');
      const created = await createPolicy(makeDb(c.env.DB), p.tenantId, await readYamlDocument(c), p.actor.id);
      await audit(c, { action: 'policy.created', resource: { type: 'policy', id: created.id }, data: { name: created.name, version: created.version } });
      return c.json(created, 201);
    },
  )
  .openapi(
    route({
      method: 'post',
      path: '/policies/validate',
      summary: 'Check policy YAML without saving it: schema, CEL conditions, approvers, tool patterns',
      tags: ['policies'],
      body: z.object({ yaml: z.string() }),
      rawBody: YAML_TYPES,
      response: Validated,
    }),
    async (c) => {
      requireRole(c.get('principal'), 'sre', 'validate policies');
      // The same checks POST /policies applies: a 400 here is a 400 there.
      const { policy, warnings } = validatePolicyDocument(await readYamlDocument(c));
      return c.json({ ok: true as const, name: policy.metadata.name, warnings }, 200);
    },
  )
  .openapi(route({ method: 'get', path: '/policies', summary: 'List policy versions', tags: ['policies'], response: listOf(PolicySummary) }), async (c) =>
    c.json({ items: await listPolicies(makeDb(c.env.DB), c.get('principal').tenantId) }, 200),
  )
  .openapi(route({ method: 'get', path: '/policies/{id}', summary: 'Get a policy version with its YAML', tags: ['policies'], params: IdParam, response: PolicySummary.extend({ yaml: z.string(), spec: z.record(z.string(), z.unknown()) }) }), async (c) => {
    const p = c.get('principal');
    const db = makeDb(c.env.DB);
    const row = await findPolicy(db, p.tenantId, c.req.valid('param').id);
    if (!row) throw ApiError.notFound('Policy');
    const active = (await listPolicies(db, p.tenantId)).find((x) => x.id === row.id)?.active ?? false;
    return c.json({ id: row.id, name: row.name, version: row.version, active, created_at: row.createdAt, yaml: row.yaml, spec: row.spec as Record<string, unknown> }, 200);
  })
  .openapi(
    route({
      method: 'get',
      path: '/policies/{id}/diff',
      summary: 'What changes from policy version `against` to this one: semantic changes and a unified diff',
      tags: ['policies'],
      params: IdParam,
      query: z.object({ against: z.string().min(1).max(200).describe('The policy version to compare with (the "from" side)') }),
      response: PolicyDiff,
    }),
    async (c) => {
      const p = c.get('principal');
      const db = makeDb(c.env.DB);
      const [to, from] = await Promise.all([getPolicy(db, p.tenantId, c.req.valid('param').id), getPolicy(db, p.tenantId, c.req.valid('query').against)]);
      const label = (r: typeof to) => `${r.name}@v${r.version}`;
      return c.json(
        {
          from: { id: from.id, name: from.name, version: from.version },
          to: { id: to.id, name: to.name, version: to.version },
          changes: diffPolicies(from.spec, to.spec),
          unified: unifiedDiff(label(from), from.yaml, label(to), to.yaml),
        },
        200,
      );
    },
  )
  .openapi(
    route({
      method: 'post',
      path: '/policies/{id}/simulate',
      summary: 'Replay recent runs under this policy version and list the decisions that would change',
      tags: ['policies'],
      params: IdParam,
      body: SimulateBody,
      response: Simulation,
    }),
    async (c) => {
      const p = c.get('principal');
      requireRole(p, 'sre', 'simulate policies');
      const db = makeDb(c.env.DB);
      const policy = await getPolicy(db, p.tenantId, c.req.valid('param').id);
      const { runs } = c.req.valid('json');
      const result = simulatePolicy(policy.spec, await withTodaysFacts(db, p.tenantId, await recentRunRecords(db, p.tenantId, runs)));
      const ref = { id: policy.id, name: policy.name, version: policy.version };
      await audit(c, {
        action: 'policy.simulated',
        resource: { type: 'policy', id: policy.id },
        data: { ...ref, runs_requested: runs, runs_considered: result.runs_considered, steps_considered: result.steps_considered, changed: Object.values(result.summary).reduce((a, b) => a + b, 0), summary: result.summary },
      });
      return c.json({ policy: ref, ...result }, 200);
    },
  )
  .openapi(route({ method: 'post', path: '/policies/{id}/activate', summary: 'Make a policy version the active one', tags: ['policies'], params: IdParam, response: CreatedDocSchema.extend({ active: z.boolean() }) }), async (c) => {
    const p = c.get('principal');
    await requireManage(c, 'manage policies');
    const db = makeDb(c.env.DB);
    const target = await findPolicy(db, p.tenantId, c.req.valid('param').id);
    if (!target) throw ApiError.notFound('Policy');
    requireKeepsManage(p.role, target.spec as Policy);
    const activated = await activatePolicy(db, p.tenantId, target.id);
    await audit(c, { action: 'policy.activated', resource: { type: 'policy', id: activated.id }, data: { name: activated.name, version: activated.version } });
    return c.json(activated, 200);
  });
