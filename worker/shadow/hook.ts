import type { DB } from '../db/client';
import type { Env } from '../env';
import { ApiError } from '../lib/errors';
import { runClient } from '../runs/client';
import { runExists } from '../runs/mirror';
import { TERMINAL_RUN, type RunMode, type RunView } from '../runs/types';
import type { ExpectedStep } from './align';
import { expectedFromRun, expectedPlanProblems, type ShadowExpectation } from './expectation';
import { saveExpectation } from './store';

/** The shadow part of `POST /runs`. */
export interface ShadowRequest {
  mode: RunMode;
  expected?: ExpectedStep[];
  reference_run?: string;
}

function invalid(path: string, message: string): ApiError {
  return ApiError.validation([{ path, message }], `${path}: ${message}`);
}

function checkExpected(expected: readonly ExpectedStep[]): void {
  const details = expectedPlanProblems(expected);
  if (details.length > 0) throw ApiError.validation(details, `The expected plan is invalid: ${details[0]!.path}: ${details[0]!.message}`);
}

async function referencePlan(env: Env, db: DB, tenantId: string, runId: string): Promise<ExpectedStep[]> {
  if (!(await runExists(db, tenantId, runId))) throw invalid('reference_run', `no run "${runId}"`);
  // RPC return types lose precision on `unknown` fields; the value is the DO's RunView.
  const view = await runClient(env, tenantId, runId).view();
  if (!view) throw invalid('reference_run', `no run "${runId}"`);
  if (!TERMINAL_RUN.has(view.status)) throw invalid('reference_run', `run "${runId}" has not ended (${view.status}); compare with a finished run`);
  const plan = expectedFromRun(view.steps);
  if (plan.length === 0) throw invalid('reference_run', `run "${runId}" made no calls to compare with`);
  return plan;
}

/**
 * Checks what a run request says about shadow comparison, before anything is written: 400 with
 * the field at fault, never a run that cannot be scored. Returns what to store for a shadow run
 * with an expected plan or a reference run; undefined otherwise (a shadow run may also be started
 * without either: it is then not scored, and `GET /runs/{id}/shadow` answers 409).
 */
export async function prepareShadow(env: Env, db: DB, tenantId: string, req: ShadowRequest): Promise<ShadowExpectation | undefined> {
  const given = req.expected !== undefined ? 'expected' : req.reference_run !== undefined ? 'reference_run' : undefined;
  if (given === undefined) return undefined;
  if (req.mode !== 'shadow') throw invalid(given, `only a shadow run (mode "shadow") is compared with an expected plan; this run's mode is "${req.mode}"`);
  if (req.expected !== undefined && req.reference_run !== undefined) throw invalid('reference_run', 'give either expected or reference_run, not both');
  if (req.expected !== undefined) {
    checkExpected(req.expected);
    return { source: 'expected', expected: req.expected.map((s) => ({ tool: s.tool, ...(s.args !== undefined && { args: s.args }) })) };
  }
  const ref = req.reference_run!;
  return { source: 'reference_run', expected: await referencePlan(env, db, tenantId, ref), reference_run: ref };
}

/**
 * The hook `createRun` calls: checks the request (throws 400), then, once the run's id is known
 * and before the run starts, stores its expectation. Two calls so that nothing is written for an
 * invalid request, and no run starts that could not be scored.
 */
export async function shadowHook(env: Env, db: DB, tenantId: string, req: ShadowRequest): Promise<{ save(runId: string): Promise<boolean> }> {
  const expectation = await prepareShadow(env, db, tenantId, req);
  return {
    /** True when this call stored the run's expectation (false: none to store, or stored already). */
    save: async (runId) => (expectation ? saveExpectation(db, tenantId, runId, expectation) : false),
  };
}
