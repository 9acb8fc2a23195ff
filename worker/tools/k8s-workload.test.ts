import { describe, expect, it } from 'vitest';
import { getTool } from './catalog';
import { ToolError } from './types';
import { callSimulated, simContext } from './test-helpers';

const deployment = { cluster: 'prod-eu', namespace: 'payments', name: 'payments-api' };

describe('k8s deployment tools (simulated)', () => {
  it('scale records the replicas and reports the previous count, which its compensation restores', async () => {
    const ctx = simContext();
    const before = await callSimulated('k8s.get_deployment', deployment, ctx);
    const scaled = await callSimulated('k8s.scale_deployment', { ...deployment, replicas: 0 }, ctx);
    expect(scaled).toMatchObject({ replicas: 0, previous_replicas: before.replicas });
    expect(await callSimulated('k8s.get_deployment', deployment, ctx)).toMatchObject({ replicas: 0, ready_replicas: 0 });

    const scale = getTool('k8s.scale_deployment')!;
    const undo = scale.compensation!.args({ ...deployment, replicas: 0 }, scaled)!;
    await callSimulated('k8s.scale_deployment', undo, ctx);
    expect(await callSimulated('k8s.get_deployment', deployment, ctx)).toMatchObject({ replicas: before.replicas });
  });

  it('rollback restores the previous revision\'s image and can itself be undone', async () => {
    const ctx = simContext();
    const before = await callSimulated('k8s.get_deployment', deployment, ctx);
    const revision = before.revision as number;
    const rollback = await callSimulated('k8s.rollback_deployment', deployment, ctx);
    expect(rollback).toMatchObject({ revision: revision + 1, rolled_back_to: revision - 1, previous_revision: revision, previous_image: before.image });
    expect(await callSimulated('k8s.get_deployment', deployment, ctx)).toMatchObject({ revision: revision + 1, image: rollback.image });

    // The engine runs a compensation under the step's id with its own key (`…:compensate`), no effect key.
    const undo = getTool('k8s.rollback_deployment')!.compensation!.args(deployment, rollback)!;
    expect(await callSimulated('k8s.rollback_deployment', undo, { ...ctx, idempotencyKey: 'run-1:step-1:compensate' })).toMatchObject({ image: before.image });
  });

  it('a second attempt of the same rollback step answers the first instead of undoing it', async () => {
    const ctx = { ...simContext(), effectKey: 'run-1:step-1' };
    const before = await callSimulated('k8s.get_deployment', deployment, ctx);
    const first = await callSimulated('k8s.rollback_deployment', deployment, ctx);
    const retry = await callSimulated('k8s.rollback_deployment', deployment, { ...ctx, idempotencyKey: 'run-1:step-1:2' });
    expect(retry).toEqual(first);
    expect(await callSimulated('k8s.get_deployment', deployment, ctx)).toMatchObject({ revision: (before.revision as number) + 1, image: first.image });
  });

  it('rollback to a revision that is not in the history fails without retry', async () => {
    const call = callSimulated('k8s.rollback_deployment', { ...deployment, revision: 10_000 });
    await expect(call).rejects.toBeInstanceOf(ToolError);
    await expect(call).rejects.toMatchObject({ retryable: false });
  });

  it('restart creates a new revision with the same image and records when', async () => {
    const ctx = simContext();
    const before = await callSimulated('k8s.get_deployment', deployment, ctx);
    const restart = await callSimulated('k8s.restart_deployment', deployment, ctx);
    expect(restart.previous_revision).toBe(before.revision);
    expect(await callSimulated('k8s.get_deployment', deployment, ctx)).toMatchObject({
      image: before.image,
      revision: restart.revision,
      restarted_at: restart.restarted_at,
    });
  });

  it('a second attempt of the same step (new idempotency key) finds the restart done; another step restarts again', async () => {
    const ctx = { ...simContext(), effectKey: 'run-1:step-1' };
    const first = await callSimulated('k8s.restart_deployment', deployment, ctx);
    const retry = await callSimulated('k8s.restart_deployment', deployment, { ...ctx, idempotencyKey: 'run-1:step-1:2' });
    expect(retry).toEqual(first);
    expect(await callSimulated('k8s.get_deployment', deployment, ctx)).toMatchObject({ revision: first.revision });

    const other = await callSimulated('k8s.restart_deployment', deployment, { ...ctx, stepId: 'step-2', idempotencyKey: 'run-1:step-2:1', effectKey: 'run-1:step-2' });
    expect(other).toMatchObject({ previous_revision: first.revision, revision: (first.revision as number) + 1 });
  });

  it('pod logs are a bounded tail, named after the deployment container by default', async () => {
    const logs = await callSimulated('k8s.get_pod_logs', { cluster: 'prod-eu', namespace: 'payments', pod: 'payments-api-7d9f8c6b5d-x2kq9', tail_lines: 5 });
    expect(logs).toMatchObject({ container: 'payments-api', truncated: true });
    expect(logs.lines).toHaveLength(5);
    expect(getTool('k8s.get_pod_logs')!.args.safeParse({ cluster: 'c', namespace: 'n', pod: 'p', tail_lines: 5000 }).success).toBe(false);
  });
});
