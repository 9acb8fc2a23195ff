import type { DB } from '../db/client';
import type { Env, Principal } from '../env';
import { newId } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { resolveInputs } from '../runbooks';
import { activePolicy } from '../store/policies';
import { findRunbook, getRunbook } from '../store/runbooks';
import type { RunMode, RunState, RunView } from './types';

export interface CreateRunRequest {
  runbook: string;
  inputs?: Record<string, unknown>;
  context?: Record<string, unknown>;
  mode: RunMode;
}

/** The Durable Object that holds a run. Its name includes the tenant, so ids never cross tenants. */
export function runStub(env: Env, tenantId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${tenantId}:${runId}`));
}

/**
 * Validates a run request against the runbook and the active policy, then hands the run to
 * its Durable Object. Nothing is written unless the request is valid.
 */
export async function createRun(env: Env, db: DB, principal: Principal, req: CreateRunRequest) {
  const found = await findRunbook(db, principal.tenantId, req.runbook);
  if (!found || found.archivedAt) throw ApiError.validation([{ path: 'runbook', message: found ? `runbook "${req.runbook}" is archived` : `no runbook "${req.runbook}"` }]);
  const runbook = await getRunbook(db, principal.tenantId, found.id);
  const policy = await activePolicy(db, principal.tenantId);
  const role = policy.spec.spec.roles[principal.role];
  if (!role?.run) throw new ApiError('forbidden', `Role "${principal.role}" may not start runs under policy "${policy.spec.metadata.name}"`);
  const inputs = resolveInputs(runbook.spec, req.inputs ?? {});
  if (!inputs.ok) throw ApiError.validation(inputs.errors.map((e) => ({ ...e, path: `inputs.${e.path}`.replace(/^inputs\.inputs\./, 'inputs.') })));

  const id = newId('run');
  const init: RunState = {
    id,
    tenantId: principal.tenantId,
    runbook: { id: runbook.id, name: runbook.name, version: runbook.version },
    spec: runbook.spec,
    policy: policy.spec,
    policyId: policy.id,
    mode: req.mode,
    status: 'queued',
    inputs: inputs.inputs,
    context: req.context ?? {},
    actor: { type: principal.actor.type, id: principal.actor.id, role: principal.role },
    integrationMode: 'simulated',
    created_at: new Date().toISOString(),
    cost_usd: 0,
    tokens: 0,
    steps: runbook.spec.spec.steps.map((s, idx) => ({ id: s.id, idx, tool: s.tool, status: 'pending', attempts: 0, approvals: [] })),
    cursor: 0,
    compensate: [],
    world: {},
    seq: 0,
    audited_seq: 0,
  };
  // RPC return types lose precision on `unknown` fields; the value is the DO's RunView.
  return (await runStub(env, principal.tenantId, id).start(init)) as unknown as RunView;
}
