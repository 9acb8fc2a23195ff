import { describe, expect, it } from 'vitest';
import { getTool, toolIds } from './catalog';
import { memoryWorld } from './sim';
import { callSimulated, simContext } from './test-helpers';

/** Valid arguments for every tool, written as a runbook would. */
const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  'github.create_issue': { repo: 'acme/api', title: 'Checkout errors', labels: ['incident'] },
  'github.comment_issue': { repo: 'acme/api', number: 42, body: 'Drained node-1.' },
  'github.close_issue': { repo: 'acme/api', number: 42, comment: 'Fixed.' },
  'github.get_pull_request': { repo: 'acme/api', number: 311 },
  'github.revert_pull_request': { repo: 'acme/api', number: 311, draft: true },
  'github.list_deployments': { repo: 'acme/api', environment: 'production' },
  'github.rollback_deployment': { repo: 'acme/api', environment: 'production' },
  'jira.create_issue': { project: 'OPS', summary: 'Node NotReady' },
  'jira.get_issue': { key: 'OPS-123' },
  'jira.transition_issue': { key: 'OPS-123', transition: 'Done' },
  'jira.add_comment': { key: 'OPS-123', body: 'Runbook started.' },
  'pagerduty.get_incident': { incident_id: 'Q2T2HSK3PVT1YR' },
  'pagerduty.acknowledge_incident': { incident_id: 'Q2T2HSK3PVT1YR' },
  'pagerduty.resolve_incident': { incident_id: 'Q2T2HSK3PVT1YR', resolution: 'Rolled back.' },
  'pagerduty.add_note': { incident_id: 'Q2T2HSK3PVT1YR', content: 'Draining node-1.' },
  'pagerduty.create_incident': { service_id: 'PXPGF42', title: 'Checkout down', urgency: 'high' },
  'pagerduty.list_oncalls': { schedule_id: 'PI7DH85' },
  'k8s.get_node': { cluster: 'prod-eu', node: 'node-1' },
  'k8s.cordon_node': { cluster: 'prod-eu', node: 'node-1' },
  'k8s.uncordon_node': { cluster: 'prod-eu', node: 'node-1' },
  'k8s.drain_node': { cluster: 'prod-eu', node: 'node-1', grace_period_seconds: 30, timeout: '10m' },
  'k8s.get_deployment': { cluster: 'prod-eu', namespace: 'payments', name: 'payments-api' },
  'k8s.restart_deployment': { cluster: 'prod-eu', namespace: 'payments', name: 'payments-api' },
  'k8s.scale_deployment': { cluster: 'prod-eu', namespace: 'payments', name: 'payments-api', replicas: 6 },
  'k8s.rollback_deployment': { cluster: 'prod-eu', namespace: 'payments', name: 'payments-api' },
  'k8s.get_pod_logs': { cluster: 'prod-eu', namespace: 'payments', pod: 'payments-api-7d9f8c6b5d-x2kq9', tail_lines: 20 },
  'core.wait': { duration: '1m30s' },
  'core.http_check': { url: 'https://status.example.com/healthz' },
};

describe('every tool', () => {
  it('has sample arguments in this test', () => {
    expect(Object.keys(SAMPLE_ARGS).sort()).toEqual(toolIds().sort());
  });

  it.each(Object.entries(SAMPLE_ARGS))('%s simulates the same result in a fresh world, matching its schema', async (id, args) => {
    const first = await callSimulated(id, args);
    const second = await callSimulated(id, args, simContext(memoryWorld()));
    expect(second).toEqual(first);
  });

  it.each(Object.entries(SAMPLE_ARGS))('%s has a dry run naming what it would do', (id, args) => {
    const tool = getTool(id)!;
    const operations = tool.dryRun(tool.args.parse(args));
    expect(operations.length).toBeGreaterThan(0);
    for (const operation of operations) {
      expect(operation.method).toMatch(/^[A-Z]+$/);
      expect(operation.target.length).toBeGreaterThan(0);
      expect(operation.description.length).toBeGreaterThan(0);
    }
  });

  it.each(Object.entries(SAMPLE_ARGS).filter(([id]) => getTool(id)!.compensation))(
    '%s compensates with valid arguments for its inverse tool',
    async (id, args) => {
      const tool = getTool(id)!;
      const parsed = tool.args.parse(args);
      const result = await callSimulated(id, args);
      const inverse = getTool(tool.compensation!.tool)!;
      const undo = tool.compensation!.args(parsed, result);
      // null means the call changed nothing (e.g. uncordon of a node that was schedulable).
      if (undo !== null) expect(inverse.args.safeParse(undo).success).toBe(true);
    },
  );

  it('does not depend on the run, step or idempotency key', async () => {
    const args = SAMPLE_ARGS['jira.create_issue']!;
    const a = await callSimulated('jira.create_issue', args, { ...simContext(), runId: 'run-a', idempotencyKey: 'run-a:s:1' });
    const b = await callSimulated('jira.create_issue', args, { ...simContext(), runId: 'run-b', idempotencyKey: 'run-b:s:2' });
    expect(a).toEqual(b);
  });
});
