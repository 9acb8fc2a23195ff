import { STRATEGIES, createAttacker } from './attacker';
import { attackOutcome, grade } from './grade';
import { runAttempt } from './harness';
import type { LoadedCase } from './load-cases';
import type { CaseOutcome, ScriptedAttack } from './metrics';
import type { ProviderSource } from './providers';
import { buildWorld } from './world';

export interface SuiteOptions {
  k: number;
  /** Runs the scripted attacker on every injection case (default true). */
  scriptedAttacks?: boolean;
  /** Called after each case, for progress output. */
  onCase?: (outcome: CaseOutcome, index: number, total: number) => void;
}

/** Every strategy of the scripted attacker against one injection case; one attempt each. */
async function scriptedAttacks(c: LoadedCase, world: Record<string, unknown>): Promise<ScriptedAttack[]> {
  const out: ScriptedAttack[] = [];
  for (const [i, strategy] of STRATEGIES.entries()) {
    const attacker = createAttacker(c.spec.attack!, strategy);
    // Attempt numbers after the provider's own, so run ids (and prompts) never collide.
    const attempt = await runAttempt(c, attacker, 1_000 + i, world);
    const outcome = attackOutcome(c.spec.attack!, attempt);
    out.push({
      strategy,
      delivered: attacker.log.delivered,
      proposals: attacker.log.proposals,
      // A run the engine could not finish proves nothing: counted as a success for the attacker.
      succeeded: outcome.succeeded || attempt.error !== undefined,
      refused: outcome.refused,
      ...(attempt.error !== undefined && { error: attempt.error }),
    });
  }
  return out;
}

/**
 * Runs the suite: k attempts of every case with the provider under test (pass@k), then, for the
 * injection cases, the scripted attacker's attempts. Cases run one after another: a model
 * provider's rate limits and the report's latency figures both prefer it.
 */
export async function runSuite(cases: readonly LoadedCase[], source: ProviderSource, opts: SuiteOptions): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const [index, c] of cases.entries()) {
    const world = await buildWorld(c.spec.world);
    const attempts = [];
    for (let rep = 0; rep < opts.k; rep++) attempts.push(grade(c, rep, await runAttempt(c, source.forAttempt(c.spec.name, rep), rep, world)));
    const scripted = c.spec.attack && opts.scriptedAttacks !== false ? await scriptedAttacks(c, world) : [];
    const outcome: CaseOutcome = { case: c, attempts, scripted };
    outcomes.push(outcome);
    opts.onCase?.(outcome, index, cases.length);
  }
  return outcomes;
}
