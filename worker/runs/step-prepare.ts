/**
 * Preparing a step: its condition, its arguments (templates, then the toolcaller), the policy's
 * decision (tightened by the reviewer), then waiting for people, refusing, simulating (dry run,
 * shadow) or starting the call. Part of the run engine (engine.ts).
 */
import { evalCondition } from '../cel';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { parseDuration } from '../lib/duration';
import { budgetReason, decide, type Reason } from '../policy/decide';
import { factsFor, unknownTarget } from '../policy/facts';
import { getTool } from '../tools/catalog';
import type { ToolDef } from '../tools/types';
import { approvalsFor, approvalsNeeded } from './approval-rules';
import { recordAgents, stopForBudget, usage as usageOf } from './budget';
import type { PendingEvent, RunEngine, Wake } from './engine';
import { attemptStep } from './step-attempt';
import type { StepState } from './types';

/** Evaluates `if`, resolves arguments and asks the policy; then waits, refuses or starts. */
export async function prepareStep(e: RunEngine, step: StepState): Promise<Wake | 'continue'> {
  const spec = e.specOf(step);
  const usage = await usageOf(e);
  const budget = budgetReason(e.run.policy, usage);
  if (budget) {
    await stopForBudget(e, step, budget.message);
    return 'continue';
  }
  const tool = getTool(step.tool);
  if (!tool) return e.failStep(step, `Unknown tool ${step.tool}`, 'failed').then(() => 'continue' as const);
  const vars = await e.vars(spec);
  if (spec.if !== undefined) {
    let go: boolean;
    try {
      go = evalCondition(spec.if, vars);
    } catch (err) {
      await e.failStep(step, `Condition failed: ${(err as Error).message}`, 'failed');
      return 'continue';
    }
    if (!go) {
      step.status = 'skipped';
      step.ended_at = e.iso();
      e.run.cursor++;
      await e.host.commit([{ type: 'step.skipped', step: step.id, message: `Condition is false: ${spec.if}` }]);
      return 'continue';
    }
  }
  const resolved = await e.agents.args(step, spec, vars);
  if (await recordAgents(e, step, resolved.events)) return 'continue';
  if (!resolved.ok) {
    await e.failStep(step, resolved.error, 'failed');
    return 'continue';
  }
  const argsHash = await sha256Hex(canonicalJson(resolved.args));
  const voided = step.approvals.some((a) => a.verdict === 'approve' && a.args_hash !== argsHash);
  step.args = resolved.args;
  step.args_hash = argsHash;
  // What the server knows about this call's target and time, looked up now (never the run's context).
  const facts = (await e.host.governor?.facts(tool.id, resolved.args)) ?? factsFor(unknownTarget(tool.id, resolved.args), {}, e.host.now());
  const decision = decide(e.run.policy, {
    tool: { id: tool.id, mutating: tool.mutating, risk: tool.risk },
    args: resolved.args,
    actor: e.run.actor,
    context: e.run.context,
    facts,
    run: { id: e.run.id, runbook: e.run.runbook.name, mode: e.run.mode },
    stepRequiresApproval: spec.approval === 'required',
    usage: { ...usage, limits: await e.host.governor?.limitCounts(tool.id) },
  });
  const reviewed = await e.agents.review(step, decision, vars.steps);
  // The decision keeps the facts it rested on: the run view and the policy simulator show them.
  step.decision = { ...reviewed.decision, facts };
  if (await recordAgents(e, step, reviewed.events)) return 'continue';
  const effect = step.decision.effect;

  if (e.run.mode !== 'execute') return simulateStep(e, step, tool);
  if (effect === 'deny') {
    await e.failStep(step, step.decision.reasons.filter((r) => r.effect === 'deny').map((r) => r.message).join('; '), 'denied');
    return 'continue';
  }
  if (effect === 'require_approval') {
    const needed = approvalsNeeded(step.decision);
    if (approvalsFor(step.approvals, argsHash) < needed) {
      step.status = 'awaiting_approval';
      const expiresIn = step.decision.approval?.expires_in;
      const ms = expiresIn ? parseDuration(expiresIn) : undefined;
      if (ms !== undefined) step.approval_expires_at = e.iso(e.host.now() + ms);
      e.run.status = 'awaiting_approval';
      const events: PendingEvent[] = [];
      if (voided) events.push({ type: 'step.approval_voided', step: step.id, message: 'Arguments changed after approval; approval no longer applies' });
      events.push({ type: 'step.awaiting_approval', step: step.id, message: `Waiting for ${needed} approval(s) of ${tool.id}` });
      await e.host.commit(events);
      return ms !== undefined ? e.host.now() + ms : undefined;
    }
  }
  // The blast-radius slot is taken last, after any approval, right before the call: a call that
  // never happens must not use up the tenant's window.
  const reservation = (await e.host.governor?.reserve(step.id, tool.id)) ?? { ok: true };
  if (!reservation.ok) {
    const reason: Reason = {
      kind: 'limit',
      name: reservation.name,
      effect: 'deny',
      message: `Blast-radius limit "${reservation.name}" reached: ${reservation.used} of ${reservation.limit.max} per ${reservation.limit.per} used`,
    };
    step.decision = { effect: 'deny', reasons: [...step.decision.reasons, reason] };
    await e.failStep(step, reason.message, 'denied');
    return 'continue';
  }
  return attemptStep(e, step, true);
}

/** dry_run and shadow: record the decision, the operations and a simulated result; act on nothing. */
export async function simulateStep(e: RunEngine, step: StepState, tool: ToolDef): Promise<'continue'> {
  step.operations = tool.dryRun(tool.args.parse(step.args));
  const key = `${e.run.id}:${step.id}:dry_run`;
  const outcome = await e.call({ tool, args: step.args!, idempotencyKey: key, stepId: step.id, mode: 'simulated' });
  step.status = step.decision?.effect === 'deny' ? 'denied' : 'simulated';
  step.integration_mode = 'simulated';
  if (outcome.ok) await e.keepResult(step, outcome.result, key);
  else step.error = outcome.error;
  step.ended_at = e.iso();
  if (step.status === 'denied') {
    e.run.reason ??= `Step ${step.id} would be denied`;
    e.run.outcome = 'denied';
  }
  e.run.cursor++;
  await e.host.commit([{ type: `step.${step.status}`, step: step.id, message: `${step.operations.length} operation(s) planned; decision: ${step.decision?.effect}` }]);
  return 'continue';
}

