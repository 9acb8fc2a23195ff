/**
 * A person who asks for a run's changes to be undone (cancel with `compensate`, or a retry of
 * failed compensations) makes those calls as themselves: each undo is decided by the policy with
 * that person as the actor, on the trusted facts of its target, before anything changes. Undoing
 * is a change like any other — an operator cannot uncordon through a cancel what they could not
 * uncordon directly. Part of the run engine (engine.ts).
 */
import { decide } from '../policy/decide';
import { factsFor, unknownTarget } from '../policy/facts';
import { compensationCall } from './compensation';
import type { RunEngine } from './engine';

export interface Requester {
  type: string;
  id: string;
  role: string;
}

/**
 * Why `requester` may not have these steps undone (their policy decisions, named), or undefined
 * when every undo is allowed. An undo the policy would hold for an approval is refused too: a
 * compensation has no approval step, so it is made through POST /tools/invoke instead.
 */
export async function compensationRefusal(e: RunEngine, requester: Requester, stepIds: readonly string[]): Promise<string | undefined> {
  const run = e.run;
  const refusals: string[] = [];
  for (const id of stepIds) {
    const step = run.steps.find((s) => s.id === id);
    if (!step) continue;
    const call = compensationCall(step, step.outcome_unknown ? await e.lateResult(step) : await e.resultOf(step));
    if (call.kind !== 'call') continue;
    const facts = (await e.host.governor?.facts(call.tool.id, call.args)) ?? factsFor(unknownTarget(call.tool.id, call.args), {}, e.host.now());
    const decision = decide(run.policy, {
      tool: { id: call.tool.id, mutating: call.tool.mutating, risk: call.tool.risk },
      args: call.args,
      actor: requester,
      context: run.context,
      facts,
      run: { id: run.id, runbook: run.runbook.name, mode: run.mode },
    });
    if (decision.effect === 'allow') continue;
    const why = decision.reasons.filter((r) => r.effect === decision.effect).map((r) => r.message).join('; ');
    refusals.push(
      decision.effect === 'deny'
        ? `undoing ${step.id} (${call.tool.id}) is denied for ${requester.role} ${requester.id}: ${why}`
        : `undoing ${step.id} (${call.tool.id}) needs an approval (${why}); cancel without compensate and make the undo with POST /tools/invoke, where it can be approved`,
    );
  }
  return refusals.length ? `Not undone, nothing changed: ${refusals.join('. ')}` : undefined;
}
