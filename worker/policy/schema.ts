import { z } from 'zod';
import { parseDuration } from '../lib/duration';

const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'must be a duration such as 30s, 5m or 1h' });

const toolPattern = z
  .string()
  .regex(/^(\*|[a-z0-9_*]+\.[a-z0-9_*]+)$/, 'must be "*", "namespace.*", "namespace.action" or "*.get_*" (with * wildcards)');

const role = z
  .object({
    run: z.boolean().default(false),
    approve: z.boolean().default(false),
    manage: z.boolean().default(false),
    tools: z.array(toolPattern).default([]),
  })
  .strict();

const approval = z
  .object({
    roles: z.array(z.string()).min(1).default(['sre', 'admin']),
    count: z.number().int().min(1).max(10).default(1),
    // On unless a policy turns it off: nobody approves their own change by default.
    distinct_from_requester: z.boolean().default(true),
    expires_in: duration.optional(),
  })
  .strict();

const rule = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
    when: z.string().min(1),
    effect: z.enum(['allow', 'deny', 'require_approval']),
    reason: z.string().optional(),
    approval: approval.optional(),
  })
  .strict();

export const policySchema = z
  .object({
    apiVersion: z.literal('agentrunbook/v1'),
    kind: z.literal('Policy'),
    metadata: z
      .object({
        name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lowercase letters, digits and dashes'),
        description: z.string().optional(),
      })
      .strict(),
    spec: z
      .object({
        roles: z.record(z.string(), role).refine((r) => Object.keys(r).length > 0, 'at least one role is required'),
        budgets: z
          .object({
            per_run: z
              .object({
                max_cost_usd: z.number().nonnegative().optional(),
                max_tokens: z.number().int().nonnegative().optional(),
                max_steps: z.number().int().positive().optional(),
                max_duration: duration.optional(),
              })
              .strict()
              .default({}),
            per_tenant: z
              .object({
                max_cost_usd_per_day: z.number().nonnegative().optional(),
                max_runs_per_hour: z.number().int().positive().optional(),
              })
              .strict()
              .default({}),
          })
          .strict()
          .default({ per_run: {}, per_tenant: {} }),
        limits: z
          .array(
            z
              .object({
                /** Shown in denials; defaults to the tool patterns joined. */
                name: z.string().min(1).max(100).optional(),
                tools: z.array(toolPattern).min(1),
                max: z.number().int().positive(),
                per: duration,
              })
              .strict(),
          )
          .default([]),
        rules: z.array(rule).default([]),
      })
      .strict(),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;
export type PolicyRole = z.infer<typeof role>;
export type ApprovalRequirement = z.infer<typeof approval>;
export type PolicyLimit = Policy['spec']['limits'][number];

/** A policy's role by name; own properties only, so "constructor" or "__proto__" finds nothing. */
export function roleOf(policy: Policy, name: string): Policy['spec']['roles'][string] | undefined {
  return Object.hasOwn(policy.spec.roles, name) ? policy.spec.roles[name] : undefined;
}
