import { z } from 'zod';

/** RFC 1123 names as Kubernetes validates them: a DNS label, or dot-separated labels. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const cluster = z
  .string()
  .regex(DNS_LABEL, 'must be a cluster name registered with the relay (lowercase letters, digits, "-")')
  .describe('The cluster, as registered with the relay, e.g. "prod-eu".');

function objectName(kind: string, example: string) {
  return z
    .string()
    .max(253)
    .regex(DNS_SUBDOMAIN, `must be a valid ${kind} name (lowercase RFC 1123)`)
    .describe(`The ${kind} name, e.g. "${example}".`);
}

/** Arguments shared by the node tools; drain extends them. */
export const nodeArgs = z
  .object({ cluster, node: objectName('node', 'ip-10-0-3-17.eu-west-1.compute.internal') })
  .strict();

/** Arguments shared by the deployment tools; scale and rollback extend them. */
export const deploymentArgs = z
  .object({
    cluster,
    namespace: z.string().regex(DNS_LABEL, 'must be a valid namespace name').describe('The namespace, e.g. "payments".'),
    name: objectName('deployment', 'checkout-api'),
  })
  .strict();

export const podArgs = z
  .object({
    cluster,
    namespace: deploymentArgs.shape.namespace,
    pod: objectName('pod', 'checkout-api-7d9f8c6b5d-x2kq9'),
  })
  .strict();

export function nodeTarget(a: { cluster: string; node: string }): string {
  return `k8s:${a.cluster}/nodes/${a.node}`;
}

export function deploymentTarget(a: { cluster: string; namespace: string; name: string }): string {
  return `k8s:${a.cluster}/namespaces/${a.namespace}/deployments/${a.name}`;
}

export function podTarget(a: { cluster: string; namespace: string; pod: string }): string {
  return `k8s:${a.cluster}/namespaces/${a.namespace}/pods/${a.pod}`;
}
