import { nodeTools } from './k8s-node';
import { workloadTools } from './k8s-workload';

/** Kubernetes tools. Live calls go through the tenant's relay, which holds the cluster credentials. */
export const k8sTools = [...nodeTools, ...workloadTools];
