import { z } from '@hono/zod-openapi';

// Shapes of the API contract (DESIGN §12). Routes validate with them and the OpenAPI document is
// generated from them, so the docs cannot drift from what the server accepts.

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string(), line: z.number().optional() })).optional(),
    }),
    request_id: z.string(),
  })
  .openapi('Error');

export const RoleSchema = z.enum(['viewer', 'operator', 'sre', 'admin']);

export const Json = z.record(z.string(), z.unknown());

export const DecisionSchema = z
  .object({
    effect: z.enum(['allow', 'deny', 'require_approval']),
    reasons: z.array(z.object({ kind: z.string(), name: z.string(), effect: z.string(), message: z.string() })),
    approval: z
      .object({ roles: z.array(z.string()), count: z.number(), distinct_from_requester: z.boolean(), expires_in: z.string().optional() })
      .optional(),
    facts: z
      .object({ target: Json, tenant: Json, now: Json })
      .optional()
      .describe('The trusted facts the decision rested on (`target`, `tenant`, `now` in policies); context is not among them'),
  })
  .openapi('Decision');

export const ResultRefSchema = z
  .object({
    key: z.string().describe('The idempotency key of the call that returned it'),
    bytes: z.number().int(),
    sha256: z.string(),
    preview: z.string().describe("The first characters of the result's JSON"),
    truncated: z.literal(true),
  })
  .describe('A large result kept out of line: GET /runs/{id}/steps/{step}/result returns the whole')
  .openapi('ResultRef');

export const CompensationSchema = z
  .object({
    tool: z.string(),
    args: Json.nullable(),
    status: z.enum(['pending', 'succeeded', 'failed', 'skipped']),
    result: z.unknown().optional(),
    error: z.string().optional(),
    attempts: z.number().int().optional(),
    next_at: z.string().optional(),
    deadline_at: z.string().optional(),
  })
  .openapi('Compensation');

export const StepSchema = z
  .object({
    id: z.string(),
    tool: z.string(),
    status: z.enum(['pending', 'awaiting_approval', 'running', 'succeeded', 'failed', 'skipped', 'denied', 'simulated', 'compensated']),
    args: Json.nullable(),
    result: z.unknown().optional(),
    result_ref: ResultRefSchema.optional(),
    error: z.string().optional(),
    outcome_unknown: z.literal(true).optional().describe('Cancelled while its call was in flight: whether it acted is unknown'),
    decision: DecisionSchema.optional(),
    attempts: z.number(),
    compensation: CompensationSchema.optional(),
    integration_mode: z.enum(['simulated', 'live']).optional(),
    approvals: z.array(Json),
    plan: z
      .object({ reason: z.string(), added: z.boolean().describe('The planner added this read-only step to the runbook\'s own') })
      .optional()
      .describe("The planner's reason for the step"),
  })
  .openapi('Step');

export const HallucinationSchema = z
  .object({
    agent: z.enum(['planner', 'toolcaller']),
    kind: z.string().describe('unknown_tool, tool_not_allowed, mutating_addition, invalid_args, changed_fixed_arg, …'),
    step_id: z.string(),
    tool: z.string(),
    arg: z.string().optional(),
    reason: z.string(),
    at: z.string(),
  })
  .openapi('Hallucination');

export const AgentTraceSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    agent: z.enum(['planner', 'toolcaller', 'reviewer']),
    step: z.string().optional(),
    provider: z.enum(['stub', 'openai', 'anthropic']),
    model: z.string(),
    prompt_version: z.string(),
    prompt_hash: z.string().describe('SHA-256 of the system prompt, messages and schema name sent'),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cost_usd: z.number(),
    latency_ms: z.number(),
    attempts: z.number().int().optional().describe('Requests that produced an answer: 2 after a repair'),
    output: z.unknown().optional().describe('The parsed answer, secrets redacted'),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .openapi('AgentTrace');

export const RunSchema = z
  .object({
    id: z.string(),
    runbook: z.string(),
    runbook_version: z.number(),
    status: z.enum(['queued', 'planning', 'running', 'awaiting_approval', 'succeeded', 'failed', 'denied', 'cancelled']),
    mode: z.enum(['execute', 'dry_run', 'shadow']),
    reason: z.string().optional(),
    inputs: Json,
    context: Json,
    actor: z
      .object({ type: z.string(), id: z.string(), person: z.string().optional().describe('The person who started the run (DESIGN §14)') })
      .describe('Who started the run: the credential, and the person behind it'),
    created_at: z.string(),
    ended_at: z.string().optional(),
    cost_usd: z.number(),
    tokens: z.number(),
    steps: z.array(StepSchema),
    hallucinations: z.array(HallucinationSchema).optional().describe('What agents proposed that was refused or corrected; never executed'),
    compensation_failed: z.array(z.string()).optional().describe('Steps whose undoing failed for good: a person must look; POST /runs/{id}/compensate retries'),
  })
  .openapi('Run');

export const RunTraceSchema = z
  .object({
    items: z.array(AgentTraceSchema),
    hallucinations: z.array(HallucinationSchema),
    totals: z.object({ calls: z.number().int(), input_tokens: z.number().int(), output_tokens: z.number().int(), cost_usd: z.number() }),
  })
  .openapi('RunTrace');

export const RunSummarySchema = z
  .object({
    id: z.string(),
    runbook: z.string(),
    runbook_version: z.number(),
    status: z.string(),
    mode: z.string(),
    reason: z.string().nullable(),
    actor: z.object({ type: z.string(), id: z.string(), person: z.string().optional() }),
    created_at: z.string(),
    ended_at: z.string().nullable(),
  })
  .openapi('RunSummary');

export const CreateRunSchema = z
  .object({
    runbook: z.string().min(1).max(200).describe('Runbook name or id'),
    inputs: Json.optional(),
    context: Json.optional(),
    mode: z.enum(['execute', 'dry_run', 'shadow']).default('execute'),
    expected: z
      .array(z.object({ tool: z.string().min(1).max(100), args: Json.optional() }))
      .max(120)
      .optional()
      .describe('Shadow mode: the plan a person would run, compared with the agent\'s (GET /runs/{id}/shadow)'),
    reference_run: z.string().min(1).max(200).optional().describe('Shadow mode: compare with a finished run (its calls, in order)'),
  })
  .strict()
  .openapi('CreateRun');

export const ReviewSchema = z.object({ comment: z.string().max(2000).optional() }).strict().openapi('Review');
export const CancelSchema = z.object({ compensate: z.boolean().default(false) }).strict().openapi('Cancel');

export const YamlBodySchema = z.object({ yaml: z.string().min(1).max(256 * 1024) }).strict().openapi('YamlDocument');

export const RunbookSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.number(),
    updated_at: z.string(),
    archived: z.boolean(),
  })
  .openapi('RunbookSummary');

export const CreatedDocSchema = z.object({ id: z.string(), name: z.string(), version: z.number() }).openapi('CreatedDocument');

export const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: RoleSchema,
    prefix: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  });

export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

export const IdParam = z.object({ id: z.string().min(1).max(200) });
export const RunStepParams = z.object({ id: z.string().min(1).max(200), stepId: z.string().min(1).max(100) });
