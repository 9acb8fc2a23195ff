import { K8S_TOOLS, type K8sToolContract } from '../../contract/k8s-tools';
import { K8S_ACTIONS } from '../../contract/protocol';
import type { K8sAction } from '../../contract/protocol';
import type { Action } from './context';
import { getDeployment, restartDeployment, rollbackDeployment, scaleDeployment } from './deployments';
import { drainNode } from './drain';
import { getPodLogs } from './logs';
import { cordonNode, getNode, uncordonNode } from './nodes';

/** Every k8s tool of the catalog, as the relay executes it. */
export const ACTIONS: ReadonlyMap<K8sAction, Action> = new Map(
  [getNode, cordonNode, uncordonNode, drainNode, getDeployment, restartDeployment, scaleDeployment, rollbackDeployment, getPodLogs].map(
    (a) => [a.id, a],
  ),
);

/** What the platform and the relay agreed the tool takes and returns (k8s-relay/contract/k8s-tools.ts). */
export function toolFor(action: K8sAction): K8sToolContract {
  return K8S_TOOLS[action];
}

/** Checked at startup: a tool of the contract the relay does not implement (or the reverse) is a build error. */
export function assertCatalogMatches(): void {
  const contract = Object.keys(K8S_TOOLS).sort();
  const ours = [...K8S_ACTIONS].sort();
  if (contract.join() !== ours.join() || ours.some((id) => !ACTIONS.has(id))) {
    throw new Error(`k8s actions out of step with the contract: contract ${contract.join(', ')}; relay ${ours.join(', ')}`);
  }
}
