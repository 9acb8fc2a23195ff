import { beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../test/fakes/fake-server';
import { tools } from '../tools/catalog';
import { IntegrationError, createLiveExecutor, vendorOf } from './index';

/** Valid arguments for every live tool; the test below fails when the catalog gains one. */
const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  'github.create_issue': { repo: 'acme/api', title: 't' },
  'github.comment_issue': { repo: 'acme/api', number: 1, body: 'b' },
  'github.close_issue': { repo: 'acme/api', number: 1 },
  'github.get_pull_request': { repo: 'acme/api', number: 1 },
  'github.revert_pull_request': { repo: 'acme/api', number: 1 },
  'github.list_deployments': { repo: 'acme/api', environment: 'production' },
  'github.rollback_deployment': { repo: 'acme/api', environment: 'production' },
  'jira.create_issue': { project: 'OPS', summary: 's' },
  'jira.get_issue': { key: 'OPS-1' },
  'jira.transition_issue': { key: 'OPS-1', transition: 'Done' },
  'jira.add_comment': { key: 'OPS-1', body: 'b' },
  'pagerduty.get_incident': { incident_id: 'Q1' },
  'pagerduty.acknowledge_incident': { incident_id: 'Q1' },
  'pagerduty.resolve_incident': { incident_id: 'Q1' },
  'pagerduty.add_note': { incident_id: 'Q1', content: 'c' },
  'pagerduty.create_incident': { service_id: 'PSVC1', title: 't' },
  'pagerduty.list_oncalls': {},
};

/** A port that was just listening and is now closed: connecting is refused at once. */
let closedUrl = '';
beforeAll(async () => {
  const served = await serve(async () => new Response(null, { status: 204 }));
  closedUrl = served.url;
  await served.close();
});

const CREDENTIALS = {
  github: { token: 'ghp_test' },
  jira: { email: 'a@acme.test', api_token: 'jira-test' },
  pagerduty: { token: 'pd-test', from_email: 'a@acme.test' },
};

describe('createLiveExecutor', () => {
  it('serves the github, jira and pagerduty namespaces only', () => {
    expect(vendorOf('github.create_issue')).toBe('github');
    expect(vendorOf('pagerduty.add_note')).toBe('pagerduty');
    expect(vendorOf('k8s.drain_node')).toBeUndefined();
  });

  it('refuses malformed credentials naming the field, never the value', () => {
    const attempt = () => createLiveExecutor('pagerduty', { credentials: { token: 'tok_secret_value', from_email: 'not-an-email' } });
    expect(attempt).toThrow(IntegrationError);
    expect(attempt).toThrow('PagerDuty credentials are incomplete or malformed (from_email)');
    expect(() => createLiveExecutor('jira', { credentials: { email: 'a@b.test' } })).toThrow(/Jira credentials/);
    expect(() => createLiveExecutor('jira', { credentials: { token: 'pat' } })).toThrow('Jira needs its site URL as base_url');
  });

  it('implements every github, jira and pagerduty tool of the catalog', async () => {
    const live = tools.filter((t) => vendorOf(t.id) !== undefined).map((t) => t.id);
    expect(Object.keys(SAMPLE_ARGS).sort()).toEqual([...live].sort());
    // Reaching the network proves a handler exists; the closed port refuses at once.
    for (const id of live) {
      const vendor = vendorOf(id)!;
      const exec = createLiveExecutor(vendor, { base_url: closedUrl, credentials: CREDENTIALS[vendor] }, { retry: { attempts: 1 } });
      const err = await exec({ tool: id, args: SAMPLE_ARGS[id]!, idempotencyKey: 'run_1:s:1' }).catch((e: unknown) => e);
      expect(err, id).toBeInstanceOf(IntegrationError);
      expect((err as IntegrationError).code, id).toBe('network');
      expect((err as IntegrationError).message, id).toMatch(/ECONNREFUSED/);
    }
  });

  it('an aborted call (the step deadline) is a retryable timeout for every vendor', async () => {
    const controller = new AbortController();
    controller.abort();
    for (const vendor of ['github', 'jira', 'pagerduty'] as const) {
      const exec = createLiveExecutor(vendor, { base_url: closedUrl, credentials: CREDENTIALS[vendor] });
      const tool = Object.keys(SAMPLE_ARGS).find((id) => vendorOf(id) === vendor)!;
      const err = await exec({ tool, args: SAMPLE_ARGS[tool]!, idempotencyKey: 'k', signal: controller.signal }).catch((e: unknown) => e);
      expect(err, vendor).toMatchObject({ code: 'timeout', retryable: true });
    }
  });

  it('refuses a tool of another namespace', async () => {
    const exec = createLiveExecutor('github', { credentials: CREDENTIALS.github });
    await expect(exec({ tool: 'jira.get_issue', args: { key: 'OPS-1' }, idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'unsupported' });
  });
});
