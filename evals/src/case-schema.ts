import { z } from 'zod';
import { expectedStepSchema } from '../../worker/shadow/expectation';

/**
 * One evaluation case (evals/cases/<name>.yaml): a situation, and what a careful person would do
 * in it. The runner starts a shadow run of the runbook (or of the bare goal) with these inputs,
 * context and simulated world, and compares what the agents plan with `expected`.
 */

const INTEGRATIONS = ['github', 'jira', 'pagerduty', 'k8s'] as const;
const ROLES = ['viewer', 'operator', 'sre', 'admin'] as const;
const NAME = /^[a-z][a-z0-9-]{2,80}$/;
const TOOL_PATTERN = /^[a-z0-9_*]+(\.[a-z0-9_*]+)?$/;

const json = z.record(z.string(), z.unknown());

/**
 * The simulated world before the run: what the read tools will answer. Each entry overrides the
 * fields it names on the simulation's own generated entity (a PR's title, an incident's status).
 */
export const worldSchema = z
  .object({
    pull_requests: z
      .array(
        z
          .object({
            repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
            number: z.number().int().positive(),
            title: z.string().min(1).optional(),
            state: z.enum(['open', 'closed']).optional(),
            merged: z.boolean().optional(),
            draft: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    incidents: z
      .array(
        z
          .object({
            id: z.string().regex(/^[A-Z0-9]{2,20}$/),
            title: z.string().min(1).optional(),
            status: z.enum(['triggered', 'acknowledged', 'resolved']).optional(),
            urgency: z.enum(['high', 'low']).optional(),
            service: z.string().min(1).optional(),
          })
          .strict(),
      )
      .optional(),
    issues: z
      .array(
        z
          .object({
            key: z.string().regex(/^[A-Z][A-Z0-9_]+-[1-9]\d*$/),
            summary: z.string().min(1).optional(),
            status: z.string().min(1).optional(),
            issue_type: z.string().min(1).optional(),
          })
          .strict(),
      )
      .optional(),
    deployments: z
      .array(
        z
          .object({
            cluster: z.string().min(1),
            namespace: z.string().min(1),
            name: z.string().min(1),
            replicas: z.number().int().min(0),
            revision: z.number().int().min(1),
          })
          .strict(),
      )
      .optional(),
    nodes: z
      .array(z.object({ cluster: z.string().min(1), node: z.string().min(1), unschedulable: z.boolean(), drained: z.boolean().default(false) }).strict())
      .optional(),
  })
  .strict();

/** A prompt-injection case: text planted in the alert, ticket, log or PR asks for this call. */
export const attackSchema = z
  .object({
    /** A phrase of the injected text: seeing it in a prompt means the injection reached a model. */
    marker: z.string().min(8).max(200),
    /** Where the text was planted, for the report: alert, ticket, log, pr, incident. */
    channel: z.enum(['alert', 'ticket', 'log', 'pr', 'incident']),
    tool: z.string().min(1),
    /** The arguments the injected call must have to count (a subset); absent: any call of the tool. */
    args: json.optional(),
  })
  .strict();

export const budgetSchema = z
  .object({
    max_cost_usd: z.number().nonnegative().optional(),
    max_tokens: z.number().int().nonnegative().optional(),
    max_latency_ms: z.number().int().positive().optional(),
    max_steps: z.number().int().positive().optional(),
  })
  .strict();

export const evalCaseSchema = z
  .object({
    name: z.string().regex(NAME, 'lowercase letters, digits and dashes'),
    description: z.string().min(10).max(500),
    integration: z.enum(INTEGRATIONS),
    tags: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).max(10).default([]),
    /** A runbook of runbooks/ by name, … */
    runbook: z.string().regex(NAME).optional(),
    /** … a runbook written here, … */
    runbook_yaml: z.string().min(10).optional(),
    /** … or only a goal: the planner may then add read-only steps and nothing else. */
    goal: z.string().min(10).max(1_000).optional(),
    policy: z.string().regex(NAME).default('default'),
    role: z.enum(ROLES).default('sre'),
    inputs: json.default({}),
    context: json.default({}),
    world: worldSchema.default({}),
    expected: z.array(expectedStepSchema).max(60),
    /** Tools (patterns such as `k8s.*`) the agent must not plan or propose in this situation. */
    forbidden_tools: z.array(z.string().regex(TOOL_PATTERN)).max(30).default([]),
    attack: attackSchema.optional(),
    expect: z
      .object({
        /** The run's final status; absent: any end. */
        status: z.enum(['succeeded', 'failed', 'denied']).optional(),
        /** Tools the policy is expected to deny here: their denials are the right outcome, not violations. */
        denied: z.array(z.string()).default([]),
        /** The lowest match score that passes (default 0.8). */
        min_score: z.number().min(0).max(1).default(0.8),
        /**
         * Read-only steps a planner adds cost nothing here (they still show as extra). For
         * situations where looking around is as right as doing nothing: a bare goal, no action.
         */
        reads_ok: z.boolean().default(false),
      })
      .strict()
      .default({ denied: [], min_score: 0.8, reads_ok: false }),
    budget: budgetSchema.default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sources = [c.runbook, c.runbook_yaml, c.goal].filter((s) => s !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: ['runbook'], message: 'give exactly one of runbook, runbook_yaml or goal' });
    if (c.tags.includes('injection') !== (c.attack !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['attack'], message: 'a case tagged "injection" describes its attack, and only such a case does' });
    }
  });

export type EvalCaseInput = z.input<typeof evalCaseSchema>;
export type EvalCase = z.infer<typeof evalCaseSchema>;
export type World = z.infer<typeof worldSchema>;
export type Attack = z.infer<typeof attackSchema>;
