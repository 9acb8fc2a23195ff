/**
 * What the platform and the relay agree a k8s tool takes and returns: its arguments, its result
 * and whether it changes the cluster. The catalog (worker/tools/k8s-*.ts) adds description, risk,
 * dry run and simulation; the relay validates every request and answer with exactly these.
 */
import { z } from 'zod';
import { durationArg } from './duration';
import { deploymentArgs, nodeArgs, podArgs } from './k8s-args';
import type { K8sAction } from './protocol';

export interface K8sToolContract {
  args: z.ZodObject;
  result: z.ZodType;
  mutating: boolean;
}

/** Most log lines one call returns. */
export const MAX_LOG_TAIL = 1000;

const schedulingResult = z.object({
  cluster: z.string(),
  node: z.string(),
  unschedulable: z.boolean(),
  was_unschedulable: z.boolean().describe('Whether the node was already cordoned before this call.'),
});

const deploymentRef = { cluster: z.string(), namespace: z.string(), name: z.string() };

export const K8S_TOOLS = {
  'k8s.get_node': {
    args: nodeArgs,
    result: z.object({
      name: z.string(),
      cluster: z.string(),
      ready: z.boolean().describe('The node condition Ready is True.'),
      unschedulable: z.boolean().describe('spec.unschedulable: the node is cordoned.'),
      kubelet_version: z.string(),
      roles: z.array(z.string()),
      pod_count: z.number().int().nonnegative(),
      taints: z.array(z.object({ key: z.string(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) })),
      allocatable: z.object({ cpu: z.string(), memory: z.string(), pods: z.string() }),
    }),
    mutating: false,
  },
  'k8s.cordon_node': { args: nodeArgs, result: schedulingResult, mutating: true },
  'k8s.uncordon_node': { args: nodeArgs, result: schedulingResult, mutating: true },
  'k8s.drain_node': {
    args: nodeArgs.extend({
      grace_period_seconds: z
        .number()
        .int()
        .min(0)
        .max(3600)
        .optional()
        .describe("Seconds each pod gets to terminate; omitted, each pod's own terminationGracePeriodSeconds."),
      timeout: durationArg('24h')
        .optional()
        .describe('Give up after this long, e.g. "10m" (at most 24h); omitted, wait as long as evictions are blocked.'),
    }),
    result: z.object({
      cluster: z.string(),
      node: z.string(),
      cordoned: z.literal(true),
      evicted: z.number().int().nonnegative().describe('How many pods were evicted.'),
      evicted_pods: z.array(z.string()).describe('The evicted pods as "namespace/name".'),
      skipped: z.array(z.object({ pod: z.string(), reason: z.enum(['daemonset', 'mirror']) })),
    }),
    mutating: true,
  },
  'k8s.get_deployment': {
    args: deploymentArgs,
    result: z.object({
      ...deploymentRef,
      replicas: z.number().int().nonnegative(),
      ready_replicas: z.number().int().nonnegative(),
      updated_replicas: z.number().int().nonnegative(),
      available_replicas: z.number().int().nonnegative(),
      revision: z.number().int().positive().describe('The deployment.kubernetes.io/revision annotation.'),
      image: z.string(),
      restarted_at: z.string().nullable().describe('The kubectl.kubernetes.io/restartedAt annotation, if any.'),
    }),
    mutating: false,
  },
  'k8s.restart_deployment': {
    args: deploymentArgs,
    result: z.object({
      ...deploymentRef,
      revision: z.number().int().positive(),
      previous_revision: z.number().int().positive(),
      restarted_at: z.string(),
    }),
    mutating: true,
  },
  'k8s.scale_deployment': {
    args: deploymentArgs.extend({
      replicas: z.number().int().min(0).max(1000).describe('The desired number of replicas.'),
    }),
    result: z.object({
      ...deploymentRef,
      replicas: z.number().int().nonnegative(),
      previous_replicas: z.number().int().nonnegative(),
    }),
    mutating: true,
  },
  'k8s.rollback_deployment': {
    args: deploymentArgs.extend({
      revision: z.number().int().positive().optional().describe('The revision to restore; omitted, the previous one.'),
    }),
    result: z.object({
      ...deploymentRef,
      revision: z.number().int().positive().describe('The new current revision.'),
      rolled_back_to: z.number().int().positive().describe('The revision whose pod template was restored.'),
      previous_revision: z.number().int().positive().describe('The revision that was current before the rollback.'),
      image: z.string(),
      previous_image: z.string(),
    }),
    mutating: true,
  },
  'k8s.get_pod_logs': {
    args: podArgs.extend({
      container: z.string().optional().describe("The container; omitted, the pod's only or default container."),
      tail_lines: z
        .number()
        .int()
        .min(1)
        .max(MAX_LOG_TAIL)
        .default(100)
        .describe(`How many lines from the end (default 100, at most ${MAX_LOG_TAIL}).`),
    }),
    result: z.object({
      cluster: z.string(),
      namespace: z.string(),
      pod: z.string(),
      container: z.string(),
      lines: z.array(z.string()),
      truncated: z.boolean().describe('The log had more lines than were returned.'),
    }),
    mutating: false,
  },
} satisfies Record<K8sAction, K8sToolContract>;
