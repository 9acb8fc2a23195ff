import { z } from 'zod';
import { argumentNames } from '../runbooks/tool-args';
import type { StepView } from '../runs/types';
import { getTool, toolIds } from '../tools/catalog';
import { didYouMean } from '../yaml/did-you-mean';
import type { ExpectedStep } from './align';

/** The most steps an expected plan may list (a runbook has at most 100, a planner adds at most 5). */
export const MAX_EXPECTED_STEPS = 120;

/** One expected call as a client sends it (`POST /runs { mode: "shadow", expected }`). */
export const expectedStepSchema = z
  .object({
    tool: z.string().min(1).max(100),
    args: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const expectedPlanSchema = z.array(expectedStepSchema).max(MAX_EXPECTED_STEPS);

/** What a shadow run is compared with, as stored beside the run. */
export interface ShadowExpectation {
  source: 'expected' | 'reference_run';
  expected: ExpectedStep[];
  /** The past run the expected plan was taken from. */
  reference_run?: string;
}

/**
 * Statuses of a step that acted (or, in a dry or shadow run, would have): what a reference run
 * did. A failed step was tried, so it counts; a skipped, denied or never-reached step did nothing.
 */
const ACTED = new Set(['succeeded', 'failed', 'compensated', 'simulated']);

/**
 * The expected plan a past run gives: the calls it made, in order, with their exact arguments.
 * Taken once, when the shadow run is created, so the comparison never changes afterwards.
 */
export function expectedFromRun(steps: readonly Pick<StepView, 'tool' | 'status' | 'args' | 'attempts'>[]): ExpectedStep[] {
  return steps
    .filter((s) => ACTED.has(s.status) && (s.status === 'simulated' || s.attempts > 0))
    .map((s) => ({ tool: s.tool, ...(s.args ? { args: s.args } : {}) }));
}

/** What is wrong with an expected plan: unknown tools, and arguments the tool does not have. */
export function expectedPlanProblems(expected: readonly ExpectedStep[], path = 'expected'): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  if (expected.length > MAX_EXPECTED_STEPS) problems.push({ path, message: `at most ${MAX_EXPECTED_STEPS} steps` });
  expected.slice(0, MAX_EXPECTED_STEPS).forEach((step, i) => {
    const tool = getTool(step.tool);
    if (!tool) {
      problems.push({ path: `${path}[${i}].tool`, message: `unknown tool "${step.tool}"${didYouMean(step.tool, toolIds())}` });
      return;
    }
    const names = argumentNames(tool);
    for (const key of Object.keys(step.args ?? {})) {
      if (!names.includes(key)) problems.push({ path: `${path}[${i}].args.${key}`, message: `${tool.id} has no argument "${key}"${didYouMean(key, names)}` });
    }
  });
  return problems;
}
