import { createHash, randomUUID } from 'node:crypto';

/**
 * The in-memory state behind the fake API server, with the semantics the relay relies on:
 * PodDisruptionBudgets that refuse evictions, ReplicaSets that replace evicted pods, a
 * deployment controller that numbers revisions, pods that terminate. Objects are the JSON the
 * real API server sends, so tests can assert on them as they would with kubectl.
 */

/**
 * The JSON of a Kubernetes object. `any` on purpose, in this test fake only: it edits API JSON the
 * way the API server does, and typing every field would double its size without catching bugs.
 */
export type Obj = Record<string, any>;

export const REVISION = 'deployment.kubernetes.io/revision';
const now = () => new Date().toISOString();

export function matchesLabels(labels: Record<string, string> | undefined, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const stable = (v: unknown): string =>
  v === null || typeof v !== 'object'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? `[${v.map(stable).join(',')}]`
      : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Obj)[k])}`).join(',')}}`;

function templateHash(template: Obj): string {
  const copy = structuredClone(template);
  delete copy.metadata?.labels?.['pod-template-hash'];
  return createHash('sha256').update(stable(copy)).digest('hex').slice(0, 10);
}

export class FakeCluster {
  nodes = new Map<string, Obj>();
  /** By `namespace/name`. */
  pods = new Map<string, Obj>();
  deployments = new Map<string, Obj>();
  replicaSets = new Map<string, Obj>();
  pdbs = new Map<string, Obj>();
  /** Pod logs by `namespace/name` and container. */
  logs = new Map<string, Record<string, string>>();
  /** Evicted ReplicaSet pods get a replacement on another schedulable node, Ready after this delay (ms); null: none. */
  replacementReadyAfterMs: number | null = 0;
  /** How long an evicted pod stays Terminating before it is gone. */
  terminationMs = 0;
  private version = 100;
  private seq = 0;

  nextVersion(): string {
    return String(++this.version);
  }

  private meta(name: string, namespace?: string, extra: Obj = {}): Obj {
    return { name, ...(namespace ? { namespace } : {}), uid: randomUUID(), resourceVersion: this.nextVersion(), creationTimestamp: now(), ...extra };
  }

  addNode(name: string, opts: { unschedulable?: boolean; roles?: string[]; taints?: Obj[]; ready?: boolean } = {}): Obj {
    const labels: Record<string, string> = { 'kubernetes.io/hostname': name };
    for (const role of opts.roles ?? ['worker']) labels[`node-role.kubernetes.io/${role}`] = '';
    const node: Obj = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: this.meta(name, undefined, { labels }),
      spec: { ...(opts.unschedulable ? { unschedulable: true } : {}), ...(opts.taints ? { taints: opts.taints } : {}) },
      status: {
        conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
        nodeInfo: { kubeletVersion: 'v1.31.2' },
        allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
      },
    };
    this.nodes.set(name, node);
    return node;
  }

  addPod(p: {
    namespace: string;
    name: string;
    node: string;
    owner?: { kind: string; name: string };
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    containers?: string[];
    phase?: string;
  }): Obj {
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: this.meta(p.name, p.namespace, {
        labels: p.labels ?? {},
        ...(p.annotations ? { annotations: p.annotations } : {}),
        ...(p.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: randomUUID(), controller: true }] } : {}),
      }),
      spec: { nodeName: p.node, containers: (p.containers ?? ['app']).map((name) => ({ name, image: `registry.example.com/${name}:1` })) },
      status: { phase: p.phase ?? 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    this.pods.set(`${p.namespace}/${p.name}`, pod);
    return pod;
  }

  addPdb(namespace: string, name: string, selector: Record<string, string>, budget: { minAvailable?: number; maxUnavailable?: number }): Obj {
    const pdb: Obj = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: this.meta(name, namespace), spec: { selector: { matchLabels: selector }, ...budget } };
    this.pdbs.set(`${namespace}/${name}`, pdb);
    return pdb;
  }

  /** A deployment at revision 1 with its ReplicaSet (pods are added separately where a test needs them). */
  addDeployment(namespace: string, name: string, opts: { replicas?: number; image?: string; paused?: boolean } = {}): Obj {
    const labels = { app: name };
    const dep: Obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: this.meta(name, namespace, { labels, generation: 1, annotations: {} }),
      spec: {
        replicas: opts.replicas ?? 3,
        ...(opts.paused ? { paused: true } : {}),
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name, image: opts.image ?? `registry.example.com/${name}:v1` }] } },
      },
      status: {},
    };
    this.deployments.set(`${namespace}/${name}`, dep);
    this.reconcile(dep);
    return dep;
  }

  /** The deployment controller, converging at once: the ReplicaSet for the current template gets revision max+1. */
  reconcile(dep: Obj): void {
    const ns = dep.metadata.namespace;
    const owned = [...this.replicaSets.values()].filter(
      (rs) => rs.metadata.namespace === ns && rs.metadata.ownerReferences?.[0]?.uid === dep.metadata.uid,
    );
    const hash = templateHash(dep.spec.template);
    const revisionOf = (rs: Obj) => Number(rs.metadata.annotations[REVISION]);
    const max = Math.max(0, ...owned.map(revisionOf));
    let current = owned.find((rs) => rs.metadata.labels['pod-template-hash'] === hash);
    if (!current) {
      const template = structuredClone(dep.spec.template);
      template.metadata.labels = { ...template.metadata.labels, 'pod-template-hash': hash };
      current = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: this.meta(`${dep.metadata.name}-${hash}`, ns, {
          labels: template.metadata.labels,
          annotations: { [REVISION]: String(max + 1) },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name, uid: dep.metadata.uid, controller: true }],
        }),
        spec: { replicas: 0, selector: { matchLabels: template.metadata.labels }, template },
      };
      this.replicaSets.set(`${ns}/${current.metadata.name}`, current);
    } else if (revisionOf(current) !== max) {
      current.metadata.annotations[REVISION] = String(max + 1);
    }
    for (const rs of [...owned, current]) rs.spec.replicas = rs === current ? dep.spec.replicas : 0;
    dep.metadata.annotations = { ...dep.metadata.annotations, [REVISION]: current.metadata.annotations[REVISION] };
    const n = dep.spec.replicas;
    dep.status = { observedGeneration: dep.metadata.generation, replicas: n, readyReplicas: n, updatedReplicas: n, availableReplicas: n };
  }

  revisions(namespace: string, name: string): Record<number, string> {
    const dep = this.deployments.get(`${namespace}/${name}`);
    const out: Record<number, string> = {};
    for (const rs of this.replicaSets.values()) {
      if (rs.metadata.ownerReferences?.[0]?.uid === dep?.metadata.uid) out[Number(rs.metadata.annotations[REVISION])] = rs.spec.template.spec.containers[0].image;
    }
    return out;
  }

  podsOn(node: string): Obj[] {
    return [...this.pods.values()].filter((p) => p.spec.nodeName === node);
  }

  private healthy(pod: Obj): boolean {
    return pod.status.phase === 'Running' && !pod.metadata.deletionTimestamp && pod.status.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True');
  }

  /**
   * The eviction subresource's decision, as the API server makes it: 429 while a budget allows no
   * disruption, 500 when several budgets cover the pod, otherwise the pod starts terminating.
   */
  evict(pod: Obj, dryRun: boolean): { code: 201 } | { code: 429 | 500; message: string; cause?: string } {
    const ns = pod.metadata.namespace;
    const budgets = [...this.pdbs.values()].filter((b) => b.metadata.namespace === ns && matchesLabels(pod.metadata.labels, b.spec.selector.matchLabels));
    if (budgets.length > 1) return { code: 500, message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' };
    const pdb = budgets[0];
    // Terminating and finished pods are evicted regardless of budgets.
    if (pdb && !pod.metadata.deletionTimestamp && pod.status.phase === 'Running') {
      const covered = [...this.pods.values()].filter((p) => p.metadata.namespace === ns && matchesLabels(p.metadata.labels, pdb.spec.selector.matchLabels));
      const healthy = covered.filter((p) => this.healthy(p)).length;
      const desired = pdb.spec.minAvailable ?? covered.length - (pdb.spec.maxUnavailable ?? 0);
      if (healthy - desired <= 0) {
        return {
          code: 429,
          message: "Cannot evict pod as it would violate the pod's disruption budget.",
          cause: `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`,
        };
      }
    }
    if (!dryRun) this.terminate(pod);
    return { code: 201 };
  }

  private terminate(pod: Obj): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (pod.metadata.deletionTimestamp) return;
    pod.metadata.deletionTimestamp = now();
    pod.metadata.resourceVersion = this.nextVersion();
    const remove = () => {
      if (this.pods.get(key) === pod) this.pods.delete(key);
    };
    if (this.terminationMs > 0) setTimeout(remove, this.terminationMs).unref();
    else remove();
    if (pod.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet' && this.replacementReadyAfterMs !== null) this.replace(pod);
  }

  /** The ReplicaSet controller: a new pod on a schedulable node, Ready after `replacementReadyAfterMs`. */
  private replace(old: Obj): void {
    const target = [...this.nodes.values()].find((n) => !n.spec.unschedulable && n.metadata.name !== old.spec.nodeName);
    const base = old.metadata.name.replace(/-[a-z0-9]{5}$/, '');
    const pod = this.addPod({
      namespace: old.metadata.namespace,
      name: `${base}-r${String(++this.seq).padStart(4, '0')}`,
      node: target?.metadata.name ?? '',
      labels: old.metadata.labels,
      owner: { kind: 'ReplicaSet', name: old.metadata.ownerReferences[0].name },
      phase: 'Pending',
    });
    pod.status.conditions = [{ type: 'Ready', status: 'False' }];
    const ready = () => {
      if (!target) return;
      pod.status.phase = 'Running';
      pod.status.conditions = [{ type: 'Ready', status: 'True' }];
    };
    if (this.replacementReadyAfterMs) setTimeout(ready, this.replacementReadyAfterMs).unref();
    else ready();
  }
}
