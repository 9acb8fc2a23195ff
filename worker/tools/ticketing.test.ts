import { describe, expect, it } from 'vitest';
import { getTool } from './catalog';
import { callSimulated, simContext } from './test-helpers';

describe('github (simulated)', () => {
  it('numbers new issues and reverts in one increasing sequence per repository', async () => {
    const ctx = simContext();
    const first = await callSimulated('github.create_issue', { repo: 'acme/api', title: 'a' }, ctx);
    const revert = await callSimulated('github.revert_pull_request', { repo: 'acme/api', number: 7 }, ctx);
    expect(first).toMatchObject({ state: 'open', html_url: `https://github.com/acme/api/issues/${first.number}` });
    expect(revert.number).toBe((first.number as number) + 1);
    expect(await callSimulated('github.get_pull_request', { repo: 'acme/api', number: revert.number }, ctx)).toMatchObject({
      state: 'open',
      merged: false,
      title: expect.stringMatching(/^Revert "/),
    });
  });

  it('rollback deploys the last successful ref before the current one, and its compensation redeploys the current', async () => {
    const ctx = simContext();
    const target = { repo: 'acme/api', environment: 'production' };
    const { deployments } = (await callSimulated('github.list_deployments', target, ctx)) as { deployments: { ref: string; state: string }[] };
    const current = deployments[0]!;
    const lastGood = deployments.slice(1).find((d) => d.state === 'inactive')!;
    const rollback = await callSimulated('github.rollback_deployment', target, ctx);
    expect(rollback).toMatchObject({ ref: lastGood.ref, previous_ref: current.ref, state: 'success' });

    const undo = getTool('github.rollback_deployment')!.compensation!.args(target, rollback)!;
    expect(await callSimulated('github.rollback_deployment', undo, ctx)).toMatchObject({ ref: current.ref, previous_ref: lastGood.ref });
  });
});

describe('jira (simulated)', () => {
  it('creates PROJECT-<n> keys counting up, and a new issue starts in To Do', async () => {
    const ctx = simContext();
    const a = await callSimulated('jira.create_issue', { project: 'OPS', summary: 'one' }, ctx);
    const b = await callSimulated('jira.create_issue', { project: 'OPS', summary: 'two' }, ctx);
    const n = Number(String(a.key).split('-')[1]);
    expect(a.key).toMatch(/^OPS-\d+$/);
    expect(b.key).toBe(`OPS-${n + 1}`);
    expect(await callSimulated('jira.get_issue', { key: b.key }, ctx)).toMatchObject({
      fields: { summary: 'two', status: { name: 'To Do' }, issuetype: { name: 'Task' } },
    });
  });

  it('a transition changes the status, and its compensation moves it back', async () => {
    const ctx = simContext();
    const { key } = await callSimulated('jira.create_issue', { project: 'OPS', summary: 's' }, ctx);
    const moved = await callSimulated('jira.transition_issue', { key, transition: 'Start Progress' }, ctx);
    expect(moved).toMatchObject({ previous_status: 'To Do', status: 'In Progress' });
    const undo = getTool('jira.transition_issue')!.compensation!.args({ key, transition: 'Start Progress' }, moved)!;
    await callSimulated('jira.transition_issue', undo, ctx);
    expect(await callSimulated('jira.get_issue', { key }, ctx)).toMatchObject({ fields: { status: { name: 'To Do' } } });
  });
});

describe('pagerduty (simulated)', () => {
  it('acknowledging then resolving changes what get_incident reads', async () => {
    const ctx = simContext();
    const id = { incident_id: 'Q2T2HSK3PVT1YR' };
    expect(await callSimulated('pagerduty.get_incident', id, ctx)).toMatchObject({ status: 'triggered' });
    expect(await callSimulated('pagerduty.acknowledge_incident', id, ctx)).toMatchObject({ status: 'acknowledged' });
    expect(await callSimulated('pagerduty.get_incident', id, ctx)).toMatchObject({ status: 'acknowledged' });
    await callSimulated('pagerduty.resolve_incident', id, ctx);
    expect(await callSimulated('pagerduty.get_incident', id, ctx)).toMatchObject({ status: 'resolved' });
  });

  it('a created incident can be read back with its title and urgency', async () => {
    const ctx = simContext();
    const created = await callSimulated('pagerduty.create_incident', { service_id: 'PXPGF42', title: 'Checkout down', urgency: 'low' }, ctx);
    expect(await callSimulated('pagerduty.get_incident', { incident_id: created.id }, ctx)).toMatchObject({
      title: 'Checkout down',
      urgency: 'low',
      status: 'triggered',
      service: { id: 'PXPGF42' },
    });
  });
});
