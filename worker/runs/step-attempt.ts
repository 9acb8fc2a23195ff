/**
 * One attempt at a step's call: started (its key minted and committed first) or delivered again
 * after a restart, awaited outside the run's lock with a deadline, checked by `verify`, then
 * succeeded, retried with backoff or failed. Part of the run engine (engine.ts).
 */
import { evalCondition } from '../cel';
import { parseDuration } from '../lib/duration';
import { resolveVerifyArgs } from '../runbooks';
import type { RunbookStep } from '../runbooks/types';
import { getTool } from '../tools/catalog';
import { backoffMs, mayRetry } from './backoff';
import type { RunEngine, Wake } from './engine';
import type { StepState } from './types';

/** Starts (fresh) or re-delivers (after a crash) the current attempt of a step. */
export async function attemptStep(e: RunEngine, step: StepState, fresh: boolean): Promise<Wake | 'continue'> {
  const spec = e.specOf(step);
  const tool = getTool(step.tool);
  // A deploy removed the tool while the step was under way: it fails, the run goes on by its rules.
  if (!tool) return e.failStep(step, `Unknown tool ${step.tool} (no longer in the catalog)`, 'failed').then(() => 'continue' as const);
  const now = e.host.now();
  if (fresh) {
    step.attempts++;
    step.status = 'running';
    step.wake_at = undefined;
    step.integration_mode = e.run.integrationMode;
    step.started_at ??= e.iso(now);
    if (spec.timeout_ms !== undefined) step.deadline_at ??= e.iso(now + spec.timeout_ms);
    if (e.run.status !== 'running') e.run.status = 'running';
    if (tool.id === 'core.wait') step.wake_at = e.iso(now + (parseDuration(String(step.args!.duration)) ?? 0));
    await e.host.commit([{ type: 'step.started', step: step.id, message: `${tool.id} attempt ${step.attempts} (key ${e.key(step)})` }]);
    if (tool.id === 'core.wait') return Date.parse(step.wake_at!);
  }
  const deadline = step.deadline_at ? Date.parse(step.deadline_at) : undefined;
  if (deadline !== undefined && now >= deadline) {
    // Out of time between attempts: say why the last one failed, not only that time ran out.
    await e.failStep(step, `Step timed out after ${spec.timeout_ms} ms${step.error ? `; the last attempt failed: ${step.error}` : ''}`, 'failed');
    return 'continue';
  }
  const outcome = await e.call(
    {
      tool,
      args: step.args!,
      idempotencyKey: e.key(step),
      // One mark at the vendor for all the step's attempts: a retry after an ambiguous failure (the
      // create went through, its answer did not) finds the issue instead of opening a second.
      effectKey: `${e.run.id}:${step.id}`,
      stepId: step.id,
      mode: e.run.integrationMode,
      fresh,
    },
    deadline,
    now,
  );
  // In a live run, a call whose integration is not live still runs simulated: record which it was.
  if (outcome.mode) step.integration_mode = outcome.mode;
  let error = outcome.ok ? undefined : outcome.error;
  let retryable = outcome.ok ? false : outcome.retryable;
  if (outcome.ok && spec.verify) {
    const verdict = await verifyStep(e, step, spec, outcome.result);
    if (verdict) {
      error = verdict;
      retryable = true;
    }
  }
  if (error === undefined && outcome.ok) return e.succeed(step, outcome.result, e.key(step));
  step.error = error;
  // A vendor's Retry-After (a 429 asking for longer than the integration waits in-call) is a floor.
  const backoff = backoffMs(spec.retry.backoff_ms, step.attempts, outcome.ok ? 0 : outcome.retryAfterMs);
  const next = e.host.now() + backoff;
  if (mayRetry(retryable, step.attempts, spec.retry.attempts, next, deadline)) {
    step.wake_at = e.iso(next);
    await e.host.commit([{ type: 'step.retrying', step: step.id, message: `Attempt ${step.attempts} failed: ${error}; retrying in ${backoff} ms` }]);
    return next;
  }
  await e.failStep(step, error!, 'failed');
  return 'continue';
}

/** Runs the step's read-only check; returns why it failed, or undefined when it holds. */
export async function verifyStep(e: RunEngine, step: StepState, spec: RunbookStep, result: unknown): Promise<string | undefined> {
  const verify = spec.verify!;
  const tool = getTool(verify.tool);
  if (!tool) return `Verification tool ${verify.tool} is no longer in the catalog`;
  const vars = await e.vars(spec);
  const args = resolveVerifyArgs(spec, step.args!, { ...vars, result });
  if (!args.ok) return `Verification arguments invalid: ${args.error}`;
  const deadline = step.deadline_at ? Date.parse(step.deadline_at) : undefined;
  const outcome = await e.call({ tool, args: args.args, idempotencyKey: `${e.key(step)}:verify`, stepId: step.id, mode: e.run.integrationMode }, deadline);
  if (!outcome.ok) return `Verification call failed: ${outcome.error}`;
  try {
    return evalCondition(verify.expect, { ...vars, result: outcome.result }) ? undefined : `Verification failed: ${verify.expect} is false`;
  } catch (err) {
    return `Verification failed: ${(err as Error).message}`;
  }
}

