import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubServer, type GitHubFake } from '../../test/fakes/github-server';
import type { Served } from '../../test/fakes/fake-server';
import { getTool } from '../tools/catalog';
import { IntegrationError } from './errors';
import { createGitHubExecutor } from './github';
import { htmlMarker } from './markers';
import type { ExecutorOptions, LiveExecutor } from './types';

const TOKEN = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
const FAST: ExecutorOptions = { retry: { baseDelayMs: 1, maxDelayMs: 4 }, deploymentWait: { timeoutMs: 300, pollMs: 5 } };

let fake: GitHubFake & Served;
let exec: LiveExecutor;

async function start(options: Partial<Parameters<typeof startGitHubServer>[0]> = {}, exec_: ExecutorOptions = FAST): Promise<void> {
  await fake?.close();
  fake = await startGitHubServer({ token: TOKEN, ...options });
  fake.repo('acme/api');
  exec = createGitHubExecutor({ base_url: fake.url, credentials: { token: TOKEN } }, exec_);
}

/** Runs a tool live and checks the answer against the tool's own result schema. */
async function run(tool: string, args: Record<string, unknown>, key = 'run_1:step-1:1'): Promise<Record<string, unknown>> {
  const result = await exec({ tool, args, idempotencyKey: key });
  return getTool(tool)!.result.parse(result) as Record<string, unknown>;
}

async function failure(tool: string, args: Record<string, unknown>, key = 'run_1:step-1:1'): Promise<IntegrationError> {
  const err = await exec({ tool, args, idempotencyKey: key }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

beforeEach(() => start());
afterEach(() => fake.close());

describe('github live: issues and comments', () => {
  it('opens an issue with the key hidden in its body, and a re-delivered call returns it instead of opening another', async () => {
    const args = { repo: 'acme/api', title: 'Checkout p99 above SLO', body: 'Opened by the runbook.', labels: ['incident'] };
    const first = await run('github.create_issue', args);
    const again = await run('github.create_issue', args);

    expect(first).toEqual({ number: 1, html_url: 'https://github.test/acme/api/issues/1', state: 'open', title: args.title, labels: ['incident'] });
    expect(again).toEqual(first);
    const issues = [...fake.repos.get('acme/api')!.items.values()];
    expect(issues).toHaveLength(1);
    expect(issues[0]!.body).toBe(`Opened by the runbook.\n\n${htmlMarker('run_1:step-1:1')}`);
    expect(fake.writes('/issues')).toHaveLength(1);
  });

  it('another key opens another issue', async () => {
    await run('github.create_issue', { repo: 'acme/api', title: 'a' }, 'run_1:step-1:1');
    await run('github.create_issue', { repo: 'acme/api', title: 'a' }, 'run_1:step-1:2');
    expect(fake.repos.get('acme/api')!.items.size).toBe(2);
  });

  it('finds an older issue of the same call through search when it is no longer among the newest', async () => {
    const key = 'run_1:open:1';
    fake.addIssue('acme/api', { title: 'from an earlier delivery', body: htmlMarker(key) });
    for (let i = 0; i < 60; i++) fake.addIssue('acme/api', { title: `noise ${i}` });

    const result = await run('github.create_issue', { repo: 'acme/api', title: 'from an earlier delivery' }, key);
    expect(result.number).toBe(1);
    expect(fake.repos.get('acme/api')!.items.size).toBe(61);
    const search = fake.requests.find((r) => r.path === '/search/issues')!;
    expect(search.query.get('q')).toContain('repo:acme/api is:issue');
  });

  it('comments once per key, and close_issue comments then closes as completed', async () => {
    const issue = fake.addIssue('acme/api', { title: 'node-7 NotReady' });
    const comment = await run('github.comment_issue', { repo: 'acme/api', number: issue.number, body: 'Drained node-7.' });
    await run('github.comment_issue', { repo: 'acme/api', number: issue.number, body: 'Drained node-7.' });
    expect(comment).toMatchObject({ issue_number: issue.number, html_url: expect.stringContaining('#issuecomment-') });
    expect(issue.comments).toHaveLength(1);

    const closed = await run('github.close_issue', { repo: 'acme/api', number: issue.number, comment: 'Resolved.' }, 'run_1:close:1');
    const twice = await run('github.close_issue', { repo: 'acme/api', number: issue.number, comment: 'Resolved.' }, 'run_1:close:1');
    expect(closed).toMatchObject({ state: 'closed', state_reason: 'completed', comment_id: issue.comments[1]!.id });
    expect(twice).toEqual(closed);
    expect(issue.comments).toHaveLength(2);
    expect(issue).toMatchObject({ state: 'closed', state_reason: 'completed' });
  });

  it('sends the token and a User-Agent on every request', async () => {
    await run('github.create_issue', { repo: 'acme/api', title: 'x' });
    for (const req of fake.requests) {
      expect(req.headers.authorization).toBe(`token ${TOKEN}`);
      expect(req.headers['user-agent']).toMatch(/^agentrunbook/);
    }
  });
});

describe('github live: pull requests', () => {
  it('reads a pull request in the catalog shape', async () => {
    const pr = fake.addPull('acme/api', { title: 'Bump pool size', headRef: 'perf/pool-size' });
    const result = await run('github.get_pull_request', { repo: 'acme/api', number: pr.number });
    expect(result).toMatchObject({ number: pr.number, state: 'closed', merged: true, draft: false, user: { login: 'mchen' }, base: { ref: 'main' } });
  });

  it('reverts through GraphQL revertPullRequest, once per key', async () => {
    const pr = fake.addPull('acme/api', { title: 'Bump pool size', headRef: 'perf/pool-size' });
    const revert = await run('github.revert_pull_request', { repo: 'acme/api', number: pr.number, draft: true });
    const again = await run('github.revert_pull_request', { repo: 'acme/api', number: pr.number, draft: true });

    expect(revert).toMatchObject({ title: 'Revert "Bump pool size"', state: 'open', draft: true, merged: false, reverts: pr.number });
    expect(again).toEqual(revert);
    expect(fake.writes('/graphql')).toHaveLength(1);
    const body = fake.repos.get('acme/api')!.items.get(revert.number as number)!.body;
    expect(body).toBe(`Reverts acme/api#${pr.number}\n\n${htmlMarker('run_1:step-1:1')}`);
  });

  it('refuses to revert a pull request that is not merged', async () => {
    const pr = fake.addPull('acme/api', { title: 'WIP', headRef: 'wip', state: 'open', merged_at: null });
    const err = await failure('github.revert_pull_request', { repo: 'acme/api', number: pr.number });
    expect(err).toMatchObject({ code: 'invalid', retryable: false });
    expect(err.message).toContain('is not merged');
  });
});

describe('github live: deployments', () => {
  function seedHistory(): void {
    fake.addDeployment('acme/api', 'production', 'v1.4.7', 'inactive');
    fake.addDeployment('acme/api', 'production', 'v1.4.8', 'failure');
    fake.addDeployment('acme/api', 'production', 'v1.4.9', 'success');
  }

  it('lists deployments newest first with their latest status', async () => {
    seedHistory();
    const result = await run('github.list_deployments', { repo: 'acme/api', environment: 'production' });
    expect((result.deployments as { ref: string; state: string }[]).map((d) => [d.ref, d.state])).toEqual([
      ['v1.4.9', 'success'],
      ['v1.4.8', 'failure'],
      ['v1.4.7', 'inactive'],
    ]);
  });

  it('rolls back to the last good ref, waits for the deployer, and a re-delivery creates no second deployment', async () => {
    seedHistory();
    const first = await run('github.rollback_deployment', { repo: 'acme/api', environment: 'production' });
    const again = await run('github.rollback_deployment', { repo: 'acme/api', environment: 'production' });

    expect(first).toMatchObject({ ref: 'v1.4.7', previous_ref: 'v1.4.9', state: 'success' });
    expect(again).toEqual(first);
    const created = fake.writes(/\/deployments$/);
    expect(created).toHaveLength(1);
    expect(created[0]!.body).toMatchObject({ ref: 'v1.4.7', environment: 'production', auto_merge: false, required_contexts: [] });
    const listed = await run('github.list_deployments', { repo: 'acme/api', environment: 'production' });
    expect((listed.deployments as { state: string }[]).map((d) => d.state).slice(0, 2)).toEqual(['success', 'inactive']);
  });

  it('fails for good when the deployer reports failure, and reports a deployer that never answers', async () => {
    await start({ deployer: 'failure' });
    seedHistory();
    const failed = await failure('github.rollback_deployment', { repo: 'acme/api', environment: 'production', ref: 'v1.4.7' });
    expect(failed).toMatchObject({ code: 'deployment_failed', retryable: false });

    await start({ deployer: 'none' }, { ...FAST, deploymentWait: { timeoutMs: 30, pollMs: 5 } });
    seedHistory();
    const pending = await failure('github.rollback_deployment', { repo: 'acme/api', environment: 'production' });
    expect(pending).toMatchObject({ code: 'deployment_pending', retryable: false });
    expect(pending.message).toMatch(/still pending after \d+s; is a deployer listening/);
    expect(fake.writes(/\/deployments$/)).toHaveLength(1);
  });

  it('has nothing to roll back to without an earlier successful deployment', async () => {
    fake.addDeployment('acme/api', 'staging', 'v2.0.0', 'success');
    const err = await failure('github.rollback_deployment', { repo: 'acme/api', environment: 'staging' });
    expect(err).toMatchObject({ code: 'conflict', retryable: false });
  });
});

describe('github live: errors', () => {
  it('retries a 500 and a 429 with the same key and still opens one issue', async () => {
    fake.fail({ status: 500, method: 'POST', path: '/issues' });
    fake.fail({ status: 429, method: 'POST', path: '/issues', headers: { 'retry-after': '0' } });
    await run('github.create_issue', { repo: 'acme/api', title: 'x' });
    expect(fake.repos.get('acme/api')!.items.size).toBe(1);
    expect(fake.writes('/issues')).toHaveLength(3);
  });

  it('gives up on a persistent 503 as retryable after the policy attempts', async () => {
    fake.fail({ status: 503, times: 10 });
    const err = await failure('github.get_pull_request', { repo: 'acme/api', number: 1 });
    expect(err).toMatchObject({ code: 'unavailable', retryable: true, status: 503 });
    expect(fake.requests).toHaveLength(3);
  });

  it('a secondary rate limit asking for minutes ends the call at once with the wait', async () => {
    fake.fail({ status: 403, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, headers: { 'retry-after': '120' } });
    const err = await failure('github.get_pull_request', { repo: 'acme/api', number: 1 });
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 120_000, status: 403 });
    expect(fake.requests).toHaveLength(1);
  });

  it('an exhausted primary rate limit waits until x-ratelimit-reset', async () => {
    const reset = Math.floor(Date.now() / 1000) + 600;
    fake.fail({ status: 403, body: { message: 'API rate limit exceeded for user ID 1.' }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } });
    const err = await failure('github.get_pull_request', { repo: 'acme/api', number: 1 });
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(590_000);
  });

  it('a 404 and a plain 403 are permanent, with GitHub’s message and the operation', async () => {
    const missing = await failure('github.get_pull_request', { repo: 'acme/nope', number: 1 });
    expect(missing).toMatchObject({ code: 'not_found', retryable: false, status: 404 });
    expect(missing.message).toBe('GitHub answered 404 to GET /repos/acme/nope/pulls/1: Not Found');

    fake.fail({ status: 403, body: { message: 'Resource not accessible by integration' } });
    expect(await failure('github.get_pull_request', { repo: 'acme/api', number: 1 })).toMatchObject({ code: 'forbidden', retryable: false });
  });

  it('a 422 names the field', async () => {
    fake.fail({ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'labels', code: 'invalid' }] } });
    const err = await failure('github.create_issue', { repo: 'acme/api', title: 'x' });
    expect(err).toMatchObject({ code: 'invalid', retryable: false });
    expect(err.message).toContain('Validation Failed: labels invalid');
  });

  it('bad credentials are permanent and the token never appears, even when echoed back', async () => {
    exec = createGitHubExecutor({ base_url: fake.url, credentials: { token: 'ghp_wrongwrongwrongwrongwrong0123456789' } }, FAST);
    const err = await failure('github.create_issue', { repo: 'acme/api', title: 'x' });
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false, status: 401 });
    expect(err.message).toContain('Bad credentials');

    await start();
    fake.fail({ status: 400, body: { message: `proxy rejected header Authorization: token ${TOKEN}` } });
    const echoed = await failure('github.get_pull_request', { repo: 'acme/api', number: 1 });
    expect(echoed.message).not.toContain(TOKEN);
    expect(echoed.message).toContain('[REDACTED]');
  });

  it('an unreachable server is a retryable network error', async () => {
    const url = fake.url;
    await fake.close();
    exec = createGitHubExecutor({ base_url: url, credentials: { token: TOKEN } }, { retry: { attempts: 1 } });
    const err = await failure('github.get_pull_request', { repo: 'acme/api', number: 1 });
    expect(err).toMatchObject({ code: 'network', retryable: true });
    fake = await startGitHubServer({ token: TOKEN });
  });

  it('invalid arguments are refused before any request', async () => {
    const err = await failure('github.create_issue', { repo: 'not a repo', title: 'x' });
    expect(err).toMatchObject({ code: 'invalid', retryable: false });
    expect(err.message).toContain('repo: must be "owner/name"');
    expect(fake.requests).toHaveLength(0);
  });
});
