import { env } from 'cloudflare:workers';
import { createApiKey } from '../worker/auth/keys';
import { makeDb } from '../worker/db/client';
import { registerCluster } from '../worker/clusters/store';
import type { Env as WorkerEnv, Role } from '../worker/env';
import { api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

/**
 * Every route of the API with who may call it under the default policy, and how to build a call
 * for it against a fixture tenant. Used by the role × route matrix and the cross-tenant suite.
 */

export const ROLES: Role[] = ['viewer', 'operator', 'sre', 'admin'];
type Who = Role | 'owner';
/** Roles allowed, from the least: `operator` means operator, sre and admin. `owner`: the platform owner's key only. */
export const from = (min: Who): Role[] => (min === 'owner' ? ['admin'] : ROLES.slice(ROLES.indexOf(min)));

export interface Call {
  path: string;
  method?: string;
  json?: unknown;
  yaml?: string;
  headers?: Record<string, string>;
}

export interface Case {
  route: string; // "METHOD /openapi/path"
  allowed: Role[];
  /** What the allowed roles get when it is not a 2xx (the call passes the role check and fails later for a stated reason). */
  allowedStatus?: number;
  /** Builds the concrete request; called once per role, so destructive calls get their own target. */
  call: (t: Fixture, role: Role) => Promise<Call> | Call;
}

const WAITING = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: needs-approval }
spec:
  steps:
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: matrix }
      approval: required
`;

const SLEEPY = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: sleepy }
spec:
  steps:
    - id: pause
      tool: core.wait
      with: { duration: 1h }
`;

const runbookYaml = (name: string) => `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: ${name} }
spec:
  steps:
    - id: look
      tool: k8s.get_node
      with: { cluster: prod-eu, node: node-1 }
`;

export interface Fixture {
  t: TestTenant;
  runId: string;
  policyId: string;
  runbookId: string;
  fresh: (prefix: string) => string;
}

export async function fixture(): Promise<Fixture> {
  const t = await newTenant();
  await createRunbook(t.keys.sre, WAITING);
  await createRunbook(t.keys.sre, SLEEPY);
  const rb = await createRunbook(t.keys.sre, runbookYaml('matrix-target'));
  const runId = await startRun(t.keys.operator, { runbook: 'sleepy', mode: 'dry_run' });
  const policies = await json<{ items: { id: string; active: boolean }[] }>(api('/policies', { key: t.keys.admin }));
  let n = 0;
  return { t, runId, policyId: policies.items.find((p) => p.active)!.id, runbookId: rb.id, fresh: (prefix) => `${prefix}-${++n}` };
}

async function waitingRun(f: Fixture): Promise<string> {
  const id = await startRun(f.t.keys.operator, { runbook: 'needs-approval' });
  await driveUntil(f.t.id, f.t.keys.operator, id, ['awaiting_approval']);
  return id;
}

const newCluster = async (f: Fixture) => (await registerCluster(env as unknown as WorkerEnv, makeDb(env.DB), { tenantId: f.t.id, name: f.fresh('cluster'), createdBy: 'test' })).row.name;
const newKey = async (f: Fixture) => (await createApiKey(makeDb(env.DB), { tenantId: f.t.id, name: f.fresh('victim'), role: 'viewer', createdBy: 'test' })).id;

export const CASES: Case[] = [
  { route: 'GET /me', allowed: from('viewer'), call: () => ({ path: '/me' }) },
  { route: 'POST /tenants', allowed: from('owner'), call: (f) => ({ path: '/tenants', method: 'POST', json: { name: f.fresh('matrix-tenant') } }) },
  { route: 'POST /secrets/reseal', allowed: from('owner'), call: () => ({ path: '/secrets/reseal', method: 'POST' }) },
  { route: 'GET /keys', allowed: from('admin'), call: () => ({ path: '/keys' }) },
  { route: 'POST /keys', allowed: from('admin'), call: (f) => ({ path: '/keys', method: 'POST', json: { name: f.fresh('k'), role: 'viewer' } }) },
  { route: 'DELETE /keys/{id}', allowed: from('admin'), call: async (f) => ({ path: `/keys/${await newKey(f)}`, method: 'DELETE' }) },
  { route: 'POST /keys/{id}/rotate', allowed: from('admin'), call: async (f) => ({ path: `/keys/${await newKey(f)}/rotate`, method: 'POST', json: {} }) },
  { route: 'GET /people', allowed: from('admin'), call: () => ({ path: '/people' }) },
  { route: 'PUT /people/{email}', allowed: from('admin'), call: (f) => ({ path: `/people/${f.fresh('person')}%40example.com`, method: 'PUT', json: { role: 'viewer' } }) },
  { route: 'GET /settings', allowed: from('admin'), call: () => ({ path: '/settings' }) },
  { route: 'PUT /settings', allowed: from('admin'), call: () => ({ path: '/settings', method: 'PUT', json: {} }) },

  { route: 'GET /integrations', allowed: from('admin'), call: () => ({ path: '/integrations' }) },
  { route: 'GET /integrations/{vendor}', allowed: from('admin'), call: () => ({ path: '/integrations/github' }) },
  { route: 'PUT /integrations/{vendor}', allowed: from('admin'), call: () => ({ path: '/integrations/generic', method: 'PUT', json: { webhook_secret: 'matrix-secret-0123456789' } }) },
  {
    route: 'POST /integrations/{vendor}/test',
    allowed: from('admin'),
    // A real check needs a reachable vendor; past the role check, a webhook-only source is refused as input (400).
    allowedStatus: 400,
    call: () => ({ path: '/integrations/alertmanager/test', method: 'POST', json: {} }),
  },

  { route: 'GET /clusters', allowed: from('viewer'), call: () => ({ path: '/clusters' }) },
  { route: 'POST /clusters', allowed: from('admin'), call: (f) => ({ path: '/clusters', method: 'POST', json: { name: f.fresh('cluster') } }) },
  { route: 'GET /clusters/{name}', allowed: from('viewer'), call: async (f) => ({ path: `/clusters/${await newCluster(f)}` }) },
  { route: 'PATCH /clusters/{name}', allowed: from('admin'), call: async (f) => ({ path: `/clusters/${await newCluster(f)}`, method: 'PATCH', json: { labels: { environment: 'dev' } } }) },
  { route: 'DELETE /clusters/{name}', allowed: from('admin'), call: async (f) => ({ path: `/clusters/${await newCluster(f)}`, method: 'DELETE' }) },

  // Reports on the installation and the caller's own tenant (its integrations and clusters): tenant admins.
  { route: 'GET /doctor', allowed: from('admin'), call: () => ({ path: '/doctor' }) },

  { route: 'GET /runbooks', allowed: from('viewer'), call: () => ({ path: '/runbooks' }) },
  { route: 'POST /runbooks', allowed: from('sre'), call: (f) => ({ path: '/runbooks', method: 'POST', yaml: runbookYaml(f.fresh('new-book')) }) },
  { route: 'POST /runbooks/validate', allowed: from('sre'), call: () => ({ path: '/runbooks/validate', method: 'POST', yaml: runbookYaml('checked-only') }) },
  { route: 'GET /runbooks/{id}', allowed: from('viewer'), call: (f) => ({ path: `/runbooks/${f.runbookId}` }) },
  { route: 'PUT /runbooks/{id}', allowed: from('sre'), call: (f) => ({ path: `/runbooks/${f.runbookId}`, method: 'PUT', yaml: runbookYaml('matrix-target') }) },
  {
    route: 'DELETE /runbooks/{id}',
    allowed: from('sre'),
    call: async (f) => ({ path: `/runbooks/${(await createRunbook(f.t.keys.sre, runbookYaml(f.fresh('doomed')))).id}`, method: 'DELETE' }),
  },

  { route: 'GET /runs', allowed: from('viewer'), call: () => ({ path: '/runs' }) },
  { route: 'POST /runs', allowed: from('operator'), call: () => ({ path: '/runs', method: 'POST', json: { runbook: 'sleepy', mode: 'dry_run' } }) },
  { route: 'GET /runs/{id}', allowed: from('viewer'), call: (f) => ({ path: `/runs/${f.runId}` }) },
  { route: 'GET /runs/{id}/events', allowed: from('viewer'), call: (f) => ({ path: `/runs/${f.runId}/events` }) },
  { route: 'GET /runs/{id}/trace', allowed: from('viewer'), call: (f) => ({ path: `/runs/${f.runId}/trace` }) },
  // A dry run is not a shadow run: past the role check the answer is 409, for every role.
  { route: 'GET /runs/{id}/shadow', allowed: from('viewer'), allowedStatus: 409, call: (f) => ({ path: `/runs/${f.runId}/shadow` }) },
  { route: 'GET /runs/{id}/live', allowed: from('viewer'), call: (f) => ({ path: `/runs/${f.runId}/live`, headers: { upgrade: 'websocket' } }) },
  {
    route: 'POST /runs/{id}/cancel',
    allowed: from('operator'),
    call: async (f) => ({ path: `/runs/${await startRun(f.t.keys.operator, { runbook: 'sleepy' })}/cancel`, method: 'POST', json: {} }),
  },
  { route: 'GET /runs/{id}/steps/{stepId}/result', allowed: from('viewer'), call: (f) => ({ path: `/runs/${f.runId}/steps/pause/result` }) },
  // A run whose compensation did not fail: past the role check the answer is 409, for every role.
  { route: 'POST /runs/{id}/compensate', allowed: from('sre'), allowedStatus: 409, call: (f) => ({ path: `/runs/${f.runId}/compensate`, method: 'POST', json: {} }) },
  { route: 'POST /runs/{id}/steps/{stepId}/approve', allowed: from('sre'), call: async (f) => ({ path: `/runs/${await waitingRun(f)}/steps/ticket/approve`, method: 'POST', json: {} }) },
  { route: 'POST /runs/{id}/steps/{stepId}/deny', allowed: from('sre'), call: async (f) => ({ path: `/runs/${await waitingRun(f)}/steps/ticket/deny`, method: 'POST', json: {} }) },
  { route: 'GET /approvals', allowed: from('viewer'), call: () => ({ path: '/approvals' }) },

  { route: 'GET /tools', allowed: from('viewer'), call: () => ({ path: '/tools' }) },
  { route: 'POST /tools/plan', allowed: from('viewer'), call: () => ({ path: '/tools/plan', method: 'POST', json: { tool: 'k8s.get_node', args: { cluster: 'c', node: 'n' } } }) },
  {
    route: 'POST /tools/invoke',
    allowed: from('operator'),
    call: () => ({ path: '/tools/invoke', method: 'POST', json: { tool: 'k8s.get_node', args: { cluster: 'c', node: 'n' }, mode: 'dry_run' } }),
  },

  { route: 'GET /policies', allowed: from('viewer'), call: () => ({ path: '/policies' }) },
  { route: 'GET /policies/{id}', allowed: from('viewer'), call: (f) => ({ path: `/policies/${f.policyId}` }) },
  { route: 'POST /policies', allowed: from('admin'), call: async () => ({ path: '/policies', method: 'POST', yaml: (await import('../policies/default.yaml')).default }) },
  { route: 'POST /policies/validate', allowed: from('sre'), call: async () => ({ path: '/policies/validate', method: 'POST', yaml: (await import('../policies/default.yaml')).default }) },
  { route: 'GET /policies/{id}/diff', allowed: from('viewer'), call: (f) => ({ path: `/policies/${f.policyId}/diff?against=${f.policyId}` }) },
  { route: 'POST /policies/{id}/simulate', allowed: from('sre'), call: (f) => ({ path: `/policies/${f.policyId}/simulate`, method: 'POST', json: { runs: 5 } }) },
  { route: 'POST /policies/{id}/activate', allowed: from('admin'), call: (f) => ({ path: `/policies/${f.policyId}/activate`, method: 'POST', json: {} }) },

  { route: 'GET /analytics', allowed: from('viewer'), call: () => ({ path: '/analytics' }) },
  { route: 'GET /analytics/summary', allowed: from('viewer'), call: () => ({ path: '/analytics/summary' }) },

  { route: 'GET /evals', allowed: from('viewer'), call: () => ({ path: '/evals' }) },
  { route: 'GET /evals/{id}', allowed: from('viewer'), allowedStatus: 404, call: () => ({ path: '/evals/none' }) },
  // A real report (the committed stub baseline); uploading the same one again is answered 200.
  { route: 'POST /evals', allowed: from('admin'), call: async () => ({ path: '/evals', method: 'POST', json: (await import('../evals/baselines/stub.json')).default }) },

  { route: 'GET /audit', allowed: from('viewer'), call: () => ({ path: '/audit' }) },
  { route: 'GET /audit/checkpoints', allowed: from('viewer'), call: () => ({ path: '/audit/checkpoints' }) },
  { route: 'GET /audit/proof/inclusion', allowed: from('viewer'), call: () => ({ path: '/audit/proof/inclusion?seq=1' }) },
  { route: 'GET /audit/proof/consistency', allowed: from('viewer'), call: () => ({ path: '/audit/proof/consistency?from=1' }) },
  { route: 'GET /audit/verify', allowed: from('viewer'), call: () => ({ path: '/audit/verify' }) },
  { route: 'GET /audit/export', allowed: from('viewer'), call: () => ({ path: '/audit/export' }) },
];

/** Routes that take no credentials (they check their own: a bootstrap token, an OIDC state cookie…). */
export const PUBLIC = new Set([
  'GET /healthz',
  'POST /session',
  'GET /session',
  'DELETE /session',
  'POST /bootstrap',
  'GET /auth/oidc/{tenant}/login',
  'GET /auth/oidc/callback',
  'POST /hooks/{tenant}/{source}',
]);

/** Served outside the OpenAPI document (a WebSocket, a JSONL stream); listed here so the check is complete. */
export const UNDOCUMENTED = new Set(['GET /runs/{id}/live', 'GET /audit/export']);

