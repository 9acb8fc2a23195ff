import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Served } from '../../test/fakes/fake-server';
import { startJiraServer, type JiraFake } from '../../test/fakes/jira-server';
import { getTool } from '../tools/catalog';
import { IntegrationError } from './errors';
import { createJiraExecutor } from './jira';
import { jiraCallLabel, keyDigest } from './markers';
import type { ExecutorOptions, LiveExecutor } from './types';

const EMAIL = 'sre-bot@acme.test';
const API_TOKEN = 'ATATT3xFfGF0-jira-api-token-0123456789';
const FAST: ExecutorOptions = { retry: { baseDelayMs: 1, maxDelayMs: 4 } };

let fake: JiraFake & Served;
let exec: LiveExecutor;

beforeEach(async () => {
  fake = await startJiraServer({ email: EMAIL, apiToken: API_TOKEN, bearer: 'pat-0123456789abcdef' });
  exec = createJiraExecutor({ base_url: fake.url, credentials: { email: EMAIL, api_token: API_TOKEN } }, FAST);
});
afterEach(() => fake.close());

async function run(tool: string, args: Record<string, unknown>, key = 'run_1:ticket:1'): Promise<Record<string, unknown>> {
  return getTool(tool)!.result.parse(await exec({ tool, args, idempotencyKey: key })) as Record<string, unknown>;
}

async function failure(tool: string, args: Record<string, unknown>, key = 'run_1:ticket:1'): Promise<IntegrationError> {
  const err = await exec({ tool, args, idempotencyKey: key }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

const transitionsPosted = (): number => fake.writes(/\/transitions$/).length;

describe('jira live: issues', () => {
  it('creates an issue labelled with the call, and a re-delivered call returns it instead of creating another', async () => {
    const args = { project: 'OPS', summary: 'node-7 NotReady', description: 'Cordoned.\n\nDrain next.', labels: ['sre'] };
    const first = await run('jira.create_issue', args);
    const again = await run('jira.create_issue', args);

    expect(first).toEqual({ key: 'OPS-1', id: expect.any(String), self: `${fake.url}/rest/api/3/issue/${first.id}` });
    expect(again).toEqual(first);
    expect(fake.issues.size).toBe(1);
    const issue = fake.issues.get('OPS-1')!;
    expect(issue).toMatchObject({ issuetype: 'Task', labels: ['sre', jiraCallLabel(await keyDigest('run_1:ticket:1'))] });
    expect(issue.description).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'Cordoned.' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'Drain next.' }] },
      ],
    });

    await run('jira.create_issue', args, 'run_2:ticket:1');
    expect(fake.issues.size).toBe(2);
  });

  it('reads an issue in the catalog shape', async () => {
    fake.addIssue('OPS', 'Disk pressure', 'In Progress');
    const result = await run('jira.get_issue', { key: 'OPS-1' });
    expect(result).toMatchObject({ key: 'OPS-1', fields: { summary: 'Disk pressure', status: { name: 'In Progress' }, issuetype: { name: 'Task' }, labels: [] } });
  });

  it('authenticates with a bearer personal access token too', async () => {
    exec = createJiraExecutor({ base_url: fake.url, credentials: { token: 'pat-0123456789abcdef' } }, FAST);
    fake.addIssue('OPS', 'x');
    await run('jira.get_issue', { key: 'OPS-1' });
    expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer pat-0123456789abcdef');
  });
});

describe('jira live: transitions', () => {
  it('transitions by name, id or target status, once per key, and its compensation goes back', async () => {
    const issue = fake.addIssue('OPS', 'x');
    const first = await run('jira.transition_issue', { key: 'OPS-1', transition: 'Start Progress' });
    const again = await run('jira.transition_issue', { key: 'OPS-1', transition: 'Start Progress' });
    expect(first).toEqual({ key: 'OPS-1', transition: 'Start Progress', previous_status: 'To Do', status: 'In Progress' });
    expect(again).toEqual(first);
    expect(transitionsPosted()).toBe(1);

    await run('jira.transition_issue', { key: 'OPS-1', transition: '31' }, 'run_1:resolve:1');
    expect(issue.status).toBe('Done');

    const undo = getTool('jira.transition_issue')!.compensation!.args({ key: 'OPS-1', transition: '31' }, { previous_status: 'In Progress' })!;
    expect(await run('jira.transition_issue', undo, 'run_1:undo:1')).toMatchObject({ previous_status: 'Done', status: 'In Progress' });
    expect(issue.status).toBe('In Progress');
  });

  it('finishes a transition a failure cut short when the call is delivered again', async () => {
    const issue = fake.addIssue('OPS', 'x');
    fake.fail({ status: 503, method: 'POST', path: /\/transitions$/, times: 3 });
    const cut = await failure('jira.transition_issue', { key: 'OPS-1', transition: 'Done' });
    expect(cut).toMatchObject({ code: 'unavailable', retryable: true });
    expect(issue.status).toBe('To Do');

    expect(await run('jira.transition_issue', { key: 'OPS-1', transition: 'Done' })).toMatchObject({ previous_status: 'To Do', status: 'Done' });
    expect(issue.status).toBe('Done');
  });

  it('names the transitions there are when the one asked for is not', async () => {
    fake.addIssue('OPS', 'x');
    const err = await failure('jira.transition_issue', { key: 'OPS-1', transition: 'Teleport' });
    expect(err).toMatchObject({ code: 'invalid', retryable: false });
    expect(err.message).toBe('No transition "Teleport" from status "To Do" of OPS-1; available: "Start Progress" (→ In Progress), "Done" (→ Done)');
  });

  it('asking for the status the issue already has changes nothing', async () => {
    fake.addIssue('OPS', 'x', 'Done');
    expect(await run('jira.transition_issue', { key: 'OPS-1', transition: 'done' })).toMatchObject({ previous_status: 'Done', status: 'Done' });
    expect(transitionsPosted()).toBe(0);
  });
});

describe('jira live: comments', () => {
  it('adds a comment carrying the call in a comment property, once per key', async () => {
    const issue = fake.addIssue('OPS', 'x');
    issue.comments.push({ id: '1', body: { type: 'doc', version: 1, content: [] }, created: '2026-01-01T00:00:00.000+0000', properties: [] });
    const first = await run('jira.add_comment', { key: 'OPS-1', body: 'Rolled back to v1.4.7.' });
    const again = await run('jira.add_comment', { key: 'OPS-1', body: 'Rolled back to v1.4.7.' });
    expect(again).toEqual(first);
    expect(issue.comments).toHaveLength(2);
    expect(issue.comments[1]!.properties).toEqual([{ key: 'agentrunbook', value: { idempotency_key: 'run_1:ticket:1' } }]);
    expect(fake.requests.some((r) => r.path === '/rest/api/3/comment/list' && r.query.get('expand') === 'properties')).toBe(true);
  });
});

describe('jira live: errors', () => {
  it('a 400 names the field Jira rejected', async () => {
    const err = await failure('jira.create_issue', { project: 'NOPE', summary: 'x' });
    expect(err).toMatchObject({ code: 'invalid', retryable: false, status: 400 });
    expect(err.message).toBe('Jira answered 400 to POST /rest/api/3/issue: project: valid project is required');
  });

  it('a missing issue is not_found', async () => {
    expect(await failure('jira.get_issue', { key: 'OPS-404' })).toMatchObject({ code: 'not_found', retryable: false, status: 404 });
  });

  it('a 429 with a short Retry-After is retried; a long one ends the call with the wait', async () => {
    fake.addIssue('OPS', 'x');
    fake.fail({ status: 429, headers: { 'retry-after': '0' } });
    await run('jira.get_issue', { key: 'OPS-1' });
    expect(fake.requests).toHaveLength(2);

    fake.fail({ status: 429, headers: { 'retry-after': '120' } });
    const err = await failure('jira.get_issue', { key: 'OPS-1' });
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 120_000 });
    expect(fake.requests).toHaveLength(3);
  });

  it('bad credentials are permanent, and neither the token nor the basic-auth header leaks', async () => {
    exec = createJiraExecutor({ base_url: fake.url, credentials: { email: EMAIL, api_token: 'wrong-token-0123456789' } }, FAST);
    const err = await failure('jira.get_issue', { key: 'OPS-1' });
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false });
    expect(err.message).not.toContain('wrong-token-0123456789');

    exec = createJiraExecutor({ base_url: fake.url, credentials: { email: EMAIL, api_token: API_TOKEN } }, FAST);
    const basic = btoa(`${EMAIL}:${API_TOKEN}`);
    fake.fail({ status: 400, body: { errorMessages: [`bad header Basic ${basic}`, `token ${API_TOKEN}`] } });
    const echoed = await failure('jira.get_issue', { key: 'OPS-1' });
    expect(echoed.message).not.toContain(basic);
    expect(echoed.message).not.toContain(API_TOKEN);
  });
});
