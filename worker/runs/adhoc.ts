import { eq, and } from 'drizzle-orm';
import type { DB } from '../db/client';
import { runs } from '../db/schema';
import type { Env, Principal } from '../env';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { ApiError, zodDetails } from '../lib/errors';
import type { Runbook } from '../runbooks/types';
import { getTool } from '../tools/catalog';
import { runClient } from './client';
import { idempotencyConflict, idempotentRunId, startRun } from './create';
import type { RunView } from './types';

/** Ad-hoc calls are recorded as runs of this pseudo-runbook (no row in `runbooks`). */
export const ADHOC_RUNBOOK = 'adhoc';
export const ADHOC_STEP = 'call';

export interface InvokeRequest {
  tool: string;
  args: Record<string, unknown>;
  context: Record<string, unknown>;
  mode: 'execute' | 'dry_run';
  /** Why the call is made: kept with the run and in the audit log. */
  reason?: string;
  /** From the `Idempotency-Key` header: the same key returns the same call instead of a second one. */
  idempotencyKey?: string;
}

/**
 * One tool call under the policy, with the guarantees of a run: the decision, approvals (the
 * call waits for them), the idempotency key on the external call, the ledger and the audit log.
 * It is a run of one step, so it shows in the run list and the approvals inbox like any other.
 */
export async function invokeTool(env: Env, db: DB, principal: Principal, req: InvokeRequest): Promise<{ run: RunView; replayed: boolean }> {
  const tool = getTool(req.tool);
  if (!tool) throw ApiError.validation([{ path: 'tool', message: `unknown tool "${req.tool}"` }]);
  const parsed = tool.args.safeParse(req.args);
  if (!parsed.success) throw ApiError.validation(zodDetails(parsed.error, 'args'));
  const args = parsed.data as Record<string, unknown>;
  const requestHash = await sha256Hex(canonicalJson({ tool: tool.id, args, context: req.context, mode: req.mode }));

  let id: string | undefined;
  if (req.idempotencyKey !== undefined) {
    // The run id is derived from the key, so a retried request — even one racing the first — lands
    // on the same run object, which takes a run once.
    id = await idempotentRunId(principal.tenantId, 'tools', req.idempotencyKey);
    const [existing] = await db
      .select({ inputs: runs.inputs })
      .from(runs)
      .where(and(eq(runs.tenantId, principal.tenantId), eq(runs.id, id)))
      .limit(1);
    if (existing) {
      if ((existing.inputs as { request_hash?: string }).request_hash !== requestHash) throw idempotencyConflict();
      return { run: await view(env, principal.tenantId, id), replayed: true };
    }
  }

  const spec: Runbook = {
    apiVersion: 'agentrunbook/v1',
    kind: 'Runbook',
    metadata: { name: ADHOC_RUNBOOK, description: `Ad-hoc call of ${tool.id}`, labels: {} },
    spec: {
      goal: req.reason,
      inputs: {},
      triggers: [],
      // One attempt: a caller who wants retries retries the request (with the same key).
      steps: [{ id: ADHOC_STEP, tool: tool.id, with: args, retry: { attempts: 1, backoff_ms: 1000 }, on_failure: 'abort' }],
    },
  };
  // A request racing the first with the same key is answered with the first's run (or a 409).
  return startRun(env, db, principal, {
    id,
    runbook: { id: ADHOC_RUNBOOK, name: ADHOC_RUNBOOK, version: 0 },
    spec,
    inputs: { request_hash: requestHash, ...(req.reason ? { reason: req.reason } : {}) },
    context: req.context,
    mode: req.mode,
    literalArgs: true,
    ...(id ? { requestHash } : {}),
  });
}

async function view(env: Env, tenantId: string, id: string): Promise<RunView> {
  const run = await runClient(env, tenantId, id).view();
  if (!run) throw ApiError.notFound('Run');
  return run;
}
