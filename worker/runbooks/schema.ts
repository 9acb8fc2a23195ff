import { z } from 'zod';
import { parseDuration } from '../lib/duration';

/** The most steps a runbook may have; a plan may add MAX_ADDED_STEPS (worker/agents/prompts.ts) to them. */
export const MAX_RUNBOOK_STEPS = 100;

/**
 * The runbook document as written (DESIGN §2). Every object is strict, so a typo such as `wiht`
 * is an error instead of a silently ignored key. Durations are turned into milliseconds here;
 * defaults that depend on the tool (`on_failure`) are settled after the tool is known.
 */

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Step ids start with a letter so `steps.<id>` reads naturally in CEL; ids with `-` need `steps["a-b"]`. */
const STEP_ID = /^[a-z][a-z0-9_-]{0,62}$/;
/** Input names are CEL identifiers, so `inputs.<name>` always parses. */
const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const TOOL_ID = /^[a-z0-9_]+\.[a-z0-9_]+$/;

const DURATION_HINT = 'expected a duration such as "30s", "5m" or "1h30m"';

const duration = z.string({ error: DURATION_HINT }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  return ms;
});

const cel = z.string().min(1, 'expression is empty');

export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;

const input = z.strictObject({
  type: z.enum(INPUT_TYPES).default('string'),
  required: z.boolean().default(false),
  default: z.unknown().optional(),
  description: z.string().optional(),
  enum: z.array(z.unknown()).min(1, 'enum needs at least one value').optional(),
});

const trigger = z.strictObject({
  source: z.enum(['github', 'pagerduty', 'alertmanager', 'generic']),
  when: cel,
  /** Input name → CEL expression over `event`. */
  inputs: z.record(z.string(), cel).default({}),
});

const args = z.record(z.string(), z.unknown());

const step = z.strictObject({
  id: z.string().regex(STEP_ID, 'must be lowercase letters, digits, "_" or "-", starting with a letter (at most 63)'),
  tool: z.string().regex(TOOL_ID, 'must be a tool id such as "k8s.drain_node"'),
  description: z.string().optional(),
  if: cel.optional(),
  with: args.default({}),
  approval: z.literal('required').optional(),
  retry: z
    .strictObject({
      /** Total tries, the first included. */
      attempts: z.number().int().min(1).max(10),
      backoff: duration.default(0),
    })
    .optional(),
  timeout: duration.refine((ms) => ms > 0, 'must be longer than 0s').optional(),
  verify: z
    .strictObject({
      tool: z.string().regex(TOOL_ID, 'must be a tool id such as "k8s.get_node"'),
      with: args.optional(),
      expect: cel,
    })
    .optional(),
  on_failure: z.enum(['compensate', 'continue', 'abort']).optional(),
});

export const runbookDocumentSchema = z.strictObject({
  apiVersion: z.literal('agentrunbook/v1'),
  kind: z.literal('Runbook'),
  metadata: z.strictObject({
    name: z.string().regex(NAME, 'must be 1–63 lowercase letters, digits and dashes, starting and ending with a letter or digit'),
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).default({}),
  }),
  spec: z.strictObject({
    goal: z.string().optional(),
    inputs: z.record(z.string().regex(INPUT_NAME, 'must be letters, digits and "_", not starting with a digit'), input).default({}),
    triggers: z.array(trigger).default([]),
    steps: z.array(step).min(1, 'a runbook needs at least one step').max(MAX_RUNBOOK_STEPS, `a runbook has at most ${MAX_RUNBOOK_STEPS} steps`),
  }),
});

export type RunbookDocument = z.output<typeof runbookDocumentSchema>;
export type StepDocument = RunbookDocument['spec']['steps'][number];
