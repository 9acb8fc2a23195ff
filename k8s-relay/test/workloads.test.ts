import { afterEach, describe, expect, it } from 'vitest';
import { K8S_TOOLS } from '../contract/k8s-tools';
import { CLUSTER, errorOf, harness, resultOf } from './helpers';
import type { Harness } from './helpers';

const tool = (id: keyof typeof K8S_TOOLS) => K8S_TOOLS[id];
const dep = { cluster: CLUSTER, namespace: 'payments', name: 'checkout-api' };
let h: Harness;
afterEach(() => h?.api.close());

/** Deploys v1, then ships v2 and v3 the way a CI pipeline would (a new image in the pod template). */
function deploymentWithHistory(hh: Harness) {
  const c = hh.api.cluster;
  const d = c.addDeployment('payments', 'checkout-api', { replicas: 3, image: 'registry.example.com/checkout-api:v1' });
  for (const v of ['v2', 'v3']) {
    d.spec.template.spec.containers[0].image = `registry.example.com/checkout-api:${v}`;
    c.reconcile(d);
  }
  return d;
}

describe('k8s.get_deployment', () => {
  it('reads replicas, the revision annotation, the image and restartedAt', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const result = resultOf(await h.send('k8s.get_deployment', dep));
    expect(tool('k8s.get_deployment').result.safeParse(result).success).toBe(true);
    expect(result).toEqual({
      ...dep,
      replicas: 3,
      ready_replicas: 3,
      updated_replicas: 3,
      available_replicas: 3,
      revision: 3,
      image: 'registry.example.com/checkout-api:v3',
      restarted_at: null,
    });
  });

  it('answers not_found with the object named', async () => {
    h = await harness();
    const err = errorOf(await h.send('k8s.get_deployment', dep));
    expect(err).toMatchObject({ code: 'not_found', message: 'deployment payments/checkout-api not found' });
  });
});

describe('k8s.restart_deployment', () => {
  it('patches the restartedAt pod-template annotation, which rolls out a new revision', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const result = resultOf<{ restarted_at: string }>(await h.send('k8s.restart_deployment', dep));
    expect(tool('k8s.restart_deployment').result.safeParse(result).success).toBe(true);
    expect(result).toMatchObject({ ...dep, revision: 4, previous_revision: 3 });
    expect(result.restarted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const stored = h.api.cluster.deployments.get('payments/checkout-api')!;
    expect(stored.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(result.restarted_at);
    expect(stored.metadata.annotations['deployment.kubernetes.io/revision']).toBe('4');
    expect(h.api.requests.find((r) => r.method === 'PATCH')?.contentType).toBe('application/strategic-merge-patch+json');
  });

  it('a second attempt of the same step (same effect key, new idempotency key) finds the restart done and does not roll the pods again', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const first = resultOf<{ restarted_at: string }>(await h.send('k8s.restart_deployment', dep, { key: 'run_1:restart:1', effectKey: 'run_1:restart' }));
    const template = h.api.cluster.deployments.get('payments/checkout-api')!.spec.template.metadata.annotations;
    expect(template['agentrunbook.io/restart-key']).toBe('run_1:restart');

    // The answer to the first attempt was lost; the engine retries the step with a new attempt key.
    const second = await h.send('k8s.restart_deployment', dep, { key: 'run_1:restart:2', effectKey: 'run_1:restart' });
    expect(second).toMatchObject({ ok: true, replayed: false, operations: [] });
    expect(resultOf(second)).toEqual(first);
    expect(h.api.count('PATCH', /deployments/)).toBe(1);
    expect(h.api.cluster.deployments.get('payments/checkout-api')!.metadata.annotations['deployment.kubernetes.io/revision']).toBe('4');

    // Another step restarts again.
    resultOf(await h.send('k8s.restart_deployment', dep, { key: 'run_1:restart-again:1', effectKey: 'run_1:restart-again' }));
    expect(h.api.count('PATCH', /deployments/)).toBe(2);
  });

  it('without an effect key (an older hub) the attempt key marks the restart', async () => {
    h = await harness();
    deploymentWithHistory(h);
    resultOf(await h.send('k8s.restart_deployment', dep, { key: 'run_1:restart:1' }));
    expect(h.api.cluster.deployments.get('payments/checkout-api')!.spec.template.metadata.annotations['agentrunbook.io/restart-key']).toBe('run_1:restart:1');
  });

  it('refuses a paused deployment, as kubectl does', async () => {
    h = await harness();
    h.api.cluster.addDeployment('payments', 'checkout-api', { paused: true });
    const err = errorOf(await h.send('k8s.restart_deployment', dep));
    expect(err.code).toBe('precondition_failed');
    expect(h.api.count('PATCH', /./)).toBe(0);
  });
});

describe('k8s.scale_deployment', () => {
  it('sets spec.replicas through the scale subresource and reports the previous count', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const res = await h.send('k8s.scale_deployment', { ...dep, replicas: 5 });
    expect(resultOf(res)).toEqual({ ...dep, replicas: 5, previous_replicas: 3 });
    expect(h.api.cluster.deployments.get('payments/checkout-api')!.spec.replicas).toBe(5);
    expect(h.api.requests.find((r) => r.method === 'PATCH')).toMatchObject({
      path: '/apis/apps/v1/namespaces/payments/deployments/checkout-api/scale',
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 5 } },
    });
  });

  it('does not write when the count already matches', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const res = await h.send('k8s.scale_deployment', { ...dep, replicas: 3 });
    expect(resultOf(res)).toMatchObject({ replicas: 3, previous_replicas: 3 });
    expect(res.ok && res.operations).toEqual([]);
    expect(h.api.count('PATCH', /./)).toBe(0);
  });
});

describe('k8s.rollback_deployment', () => {
  it('restores the previous revision by default: the template of its ReplicaSet, numbered max+1', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const result = resultOf(await h.send('k8s.rollback_deployment', dep));
    expect(tool('k8s.rollback_deployment').result.safeParse(result).success).toBe(true);
    expect(result).toEqual({
      ...dep,
      revision: 4,
      rolled_back_to: 2,
      previous_revision: 3,
      image: 'registry.example.com/checkout-api:v2',
      previous_image: 'registry.example.com/checkout-api:v3',
    });
    const c = h.api.cluster;
    const stored = c.deployments.get('payments/checkout-api')!;
    expect(stored.spec.template.spec.containers[0].image).toBe('registry.example.com/checkout-api:v2');
    // The controller adopted revision 2's ReplicaSet as revision 4; no new ReplicaSet appeared.
    expect(c.revisions('payments', 'checkout-api')).toEqual({
      1: 'registry.example.com/checkout-api:v1',
      3: 'registry.example.com/checkout-api:v3',
      4: 'registry.example.com/checkout-api:v2',
    });
    const patch = h.api.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.contentType).toBe('application/json-patch+json');
    expect(JSON.stringify(patch.body)).not.toContain('pod-template-hash');
  });

  it('a second attempt of the same step finds the rollback done instead of rolling back the rollback', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const first = resultOf(await h.send('k8s.rollback_deployment', dep, { key: 'run_1:undo:1', effectKey: 'run_1:undo' }));
    const second = await h.send('k8s.rollback_deployment', dep, { key: 'run_1:undo:2', effectKey: 'run_1:undo' });
    expect(second).toMatchObject({ ok: true, operations: [] });
    expect(resultOf(second)).toEqual(first);
    expect(h.api.count('PATCH', /deployments/)).toBe(1);
    const stored = h.api.cluster.deployments.get('payments/checkout-api')!;
    expect(stored.spec.template.spec.containers[0].image).toBe('registry.example.com/checkout-api:v2');
    expect(JSON.parse(stored.metadata.annotations['agentrunbook.io/rollback'])).toMatchObject({ key: 'run_1:undo', rolled_back_to: 2 });
    // The template is revision 2's exactly: the controller adopted its ReplicaSet, no new one.
    expect(Object.keys(h.api.cluster.revisions('payments', 'checkout-api'))).toEqual(['1', '3', '4']);
  });

  it('restores an explicit revision', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const result = resultOf(await h.send('k8s.rollback_deployment', { ...dep, revision: 1 }));
    expect(result).toMatchObject({ rolled_back_to: 1, image: 'registry.example.com/checkout-api:v1', revision: 4 });
  });

  it('keeps pod-template fields the client library does not model', async () => {
    h = await harness();
    const d = h.api.cluster.addDeployment('payments', 'checkout-api', { image: 'registry.example.com/checkout-api:v1' });
    d.spec.template.spec.futureField = { enabled: true };
    h.api.cluster.reconcile(d);
    d.spec.template.spec = { containers: [{ name: 'checkout-api', image: 'registry.example.com/checkout-api:v2' }] };
    h.api.cluster.reconcile(d);
    resultOf(await h.send('k8s.rollback_deployment', dep));
    expect(h.api.cluster.deployments.get('payments/checkout-api')!.spec.template.spec.futureField).toEqual({ enabled: true });
  });

  it('names the revisions there are when the one asked for is not in the history', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const err = errorOf(await h.send('k8s.rollback_deployment', { ...dep, revision: 9 }));
    expect(err).toMatchObject({ code: 'not_found', message: 'revision 9 not found in the history of deployment payments/checkout-api (available: 1, 2, 3)' });
    const current = errorOf(await h.send('k8s.rollback_deployment', { ...dep, revision: 3 }));
    expect(current.code).toBe('precondition_failed');
    expect(h.api.count('PATCH', /./)).toBe(0);
  });

  it('a dry run sends the patch with dryRun=All and leaves the deployment as it was', async () => {
    h = await harness();
    deploymentWithHistory(h);
    const res = await h.send('k8s.rollback_deployment', dep, { dryRun: true });
    expect(resultOf(res)).toMatchObject({ rolled_back_to: 2 });
    expect(h.api.requests.find((r) => r.method === 'PATCH')?.query.dryRun).toBe('All');
    expect(h.api.cluster.deployments.get('payments/checkout-api')!.spec.template.spec.containers[0].image).toBe('registry.example.com/checkout-api:v3');
  });
});

describe('k8s.get_pod_logs', () => {
  const pod = { cluster: CLUSTER, namespace: 'payments', pod: 'checkout-api-7d9f8-x2kq9' };
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n');

  it('returns the last lines of the only container and says when the log goes back further', async () => {
    h = await harness();
    h.api.cluster.addPod({ namespace: 'payments', name: pod.pod, node: 'node-1', containers: ['app'] });
    h.api.cluster.logs.set(`payments/${pod.pod}`, { app: lines(250) });
    const result = resultOf<{ lines: string[] }>(await h.send('k8s.get_pod_logs', { ...pod, tail_lines: 3 }));
    expect(tool('k8s.get_pod_logs').result.safeParse(result).success).toBe(true);
    expect(result).toEqual({ ...pod, container: 'app', lines: ['line 248', 'line 249', 'line 250'], truncated: true });
    const all = resultOf(await h.send('k8s.get_pod_logs', { ...pod, tail_lines: 1000 }));
    expect(all).toMatchObject({ truncated: false });
    expect((all as { lines: string[] }).lines).toHaveLength(250);
  });

  it('defaults to 100 lines, and to the annotated default container of a multi-container pod', async () => {
    h = await harness();
    h.api.cluster.addPod({
      namespace: 'payments',
      name: pod.pod,
      node: 'node-1',
      containers: ['istio-proxy', 'app'],
      annotations: { 'kubectl.kubernetes.io/default-container': 'app' },
    });
    h.api.cluster.logs.set(`payments/${pod.pod}`, { app: lines(150), 'istio-proxy': 'proxy' });
    const result = resultOf<{ lines: string[]; container: string }>(await h.send('k8s.get_pod_logs', pod));
    expect(result.container).toBe('app');
    expect(result.lines).toHaveLength(100);
    expect(h.api.requests.find((r) => r.path.endsWith('/log'))?.query).toMatchObject({ container: 'app', tailLines: '101' });
  });

  it('reports an unknown container as the API server words it', async () => {
    h = await harness();
    h.api.cluster.addPod({ namespace: 'payments', name: pod.pod, node: 'node-1', containers: ['app'] });
    const err = errorOf(await h.send('k8s.get_pod_logs', { ...pod, container: 'sidecar' }));
    expect(err).toMatchObject({ code: 'rejected' });
    expect(err.message).toContain('container sidecar is not valid for pod checkout-api-7d9f8-x2kq9');
  });

  it('bounds the bytes of a response, keeping the newest lines', async () => {
    h = await harness();
    h.api.cluster.addPod({ namespace: 'payments', name: pod.pod, node: 'node-1' });
    const long = Array.from({ length: 1000 }, (_, i) => `${i} ${'x'.repeat(1000)}`).join('\n');
    h.api.cluster.logs.set(`payments/${pod.pod}`, { app: long });
    const result = resultOf<{ lines: string[]; truncated: boolean }>(await h.send('k8s.get_pod_logs', { ...pod, tail_lines: 1000 }));
    expect(result.truncated).toBe(true);
    expect(result.lines.length).toBeLessThan(1000);
    expect(result.lines.at(-1)).toMatch(/^999 /);
    expect(Buffer.byteLength(result.lines.join('\n'))).toBeLessThanOrEqual(256 * 1024);
  });
});
