import { z } from 'zod';
import { ApiError } from '../lib/errors';

/**
 * Labels on a target (a cluster, a repository, a project, a service): what policies read as
 * `target.labels`. Kubernetes-style keys, short string values, a handful per target.
 */
export const labelsSchema = z
  .record(
    z.string().regex(/^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/, 'label keys are lowercase letters, digits, "_", "." and "-", at most 63 characters'),
    z.string().max(63, 'label values are at most 63 characters').regex(/^[A-Za-z0-9_.-]*$/, 'label values are letters, digits, "_", "." and "-"'),
  )
  .refine((l) => Object.keys(l).length <= 20, 'at most 20 labels')
  .describe('Labels policies read as `target.labels`, e.g. { "environment": "prod", "region": "eu" }');

export type Labels = z.infer<typeof labelsSchema>;

/** How each tool vendor names its targets (the argument `target.name` comes from; see facts.ts). */
const TARGET_NAME: Record<string, { pattern: RegExp; what: string }> = {
  github: { pattern: /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, what: 'a repository "owner/name"' },
  jira: { pattern: /^[A-Z][A-Z0-9_]{0,49}$/, what: 'a project key such as "OPS"' },
  pagerduty: { pattern: /^[A-Z0-9]{1,20}$/, what: 'a service id such as "PSVC123"' },
};

/** An integration's `target_labels` as sent, checked against how its vendor names targets (400 naming the key). */
export function checkedTargetLabels(vendor: string, labels: Record<string, Labels> | undefined): Record<string, Labels> | undefined {
  if (labels === undefined) return undefined;
  const naming = TARGET_NAME[vendor];
  if (!naming) throw ApiError.validation([{ path: 'target_labels', message: `${vendor} only sends webhooks: it has no targets to label` }]);
  const keys = Object.keys(labels);
  if (keys.length > 500) throw ApiError.validation([{ path: 'target_labels', message: 'at most 500 targets' }]);
  const bad = keys.filter((k) => !naming.pattern.test(k));
  if (bad.length) throw ApiError.validation(bad.slice(0, 10).map((k) => ({ path: `target_labels.${k}`, message: `must be ${naming.what}` })));
  return labels;
}
