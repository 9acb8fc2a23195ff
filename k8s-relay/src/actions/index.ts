import { k8sTools } from '../../../worker/tools/k8s';
import type { ToolDef } from '../../../worker/tools/types';
import { K8S_ACTIONS } from '../protocol';
import type { K8sAction } from '../protocol';
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

/**
 * The catalog's definitions (argument and result schemas, `mutating`), imported from the Worker
 * so the relay validates with exactly the schemas the platform publishes.
 */
const TOOLS = new Map(k8sTools.map((t) => [t.id, t]));

export function toolFor(action: K8sAction): ToolDef {
  const tool = TOOLS.get(action);
  if (!tool) throw new Error(`the catalog has no tool ${action}`);
  return tool;
}

/** Checked at startup: a catalog tool the relay does not implement (or the reverse) is a build error. */
export function assertCatalogMatches(): void {
  const catalog = [...TOOLS.keys()].sort();
  const ours = [...K8S_ACTIONS].sort();
  if (catalog.join() !== ours.join() || ours.some((id) => !ACTIONS.has(id))) {
    throw new Error(`k8s actions out of step with the catalog: catalog ${catalog.join(', ')}; relay ${ours.join(', ')}`);
  }
}
