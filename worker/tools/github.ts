import { z } from 'zod';
import { defineTool, freeText, op } from './define';
import { githubDeploymentTools } from './github-deployments';
import { htmlUrl, nextNumber, repoArg, repoNumber } from './github-args';
import { HEX, nextCounter, readEntity, rng, simTime } from './sim';
import type { SimWorld } from './types';

/**
 * GitHub issue and pull-request tools. Risk: issues and comments are records (low); a revert
 * opens a pull request but merges nothing (medium, since one click ships it). Records are not
 * compensated: an issue or comment about a run that failed is what people want to keep.
 */

function nextCommentId(world: SimWorld, repo: string): number {
  return nextCounter(world, `github:next-comment-id:${repo}`, rng('github-comments', repo).int(1_800_000_000, 2_100_000_000));
}

const createIssue = defineTool({
  id: 'github.create_issue',
  description: 'Open an issue in a repository.',
  args: z
    .object({
      repo: repoArg,
      title: z.string().min(1).max(256).describe('The issue title.'),
      body: freeText().optional().describe('The issue body (Markdown).'),
      labels: z.array(z.string().min(1)).optional().describe('Labels to add; missing labels are created.'),
    })
    .strict(),
  result: z.object({
    number: z.number().int().positive(),
    html_url: z.string(),
    state: z.literal('open'),
    title: z.string(),
    labels: z.array(z.string()),
  }),
  mutating: true,
  risk: 'low',
  dryRun: (a) => [op('POST', `github:${a.repo}/issues`, `Open issue "${a.title}"`)],
  simulate: (a, { world }) => {
    const number = nextNumber(world, a.repo);
    const html_url = htmlUrl(a.repo, 'issues', number);
    return { number, html_url, state: 'open' as const, title: a.title, labels: a.labels ?? [] };
  },
});

const commentResult = z.object({
  id: z.number().int().positive(),
  html_url: z.string(),
  issue_number: z.number().int().positive(),
  created_at: z.string(),
});

function addComment(world: SimWorld, repo: string, number: number): z.infer<typeof commentResult> {
  const id = nextCommentId(world, repo);
  return {
    id,
    html_url: `${htmlUrl(repo, 'issues', number)}#issuecomment-${id}`,
    issue_number: number,
    created_at: simTime(rng('github-comment-time', id).int(0, 3_600_000)),
  };
}

const commentIssue = defineTool({
  id: 'github.comment_issue',
  description: 'Comment on an issue or pull request.',
  args: repoNumber.extend({ body: freeText().min(1).describe('The comment (Markdown).') }),
  result: commentResult,
  mutating: true,
  risk: 'low',
  dryRun: (a) => [op('POST', `github:${a.repo}#${a.number}/comments`, 'Add a comment')],
  simulate: (a, { world }) => addComment(world, a.repo, a.number),
});

const closeIssue = defineTool({
  id: 'github.close_issue',
  description: 'Close an issue as completed, optionally commenting first.',
  args: repoNumber.extend({ comment: freeText().min(1).optional().describe('A comment to add before closing.') }),
  result: z.object({
    number: z.number().int().positive(),
    html_url: z.string(),
    state: z.literal('closed'),
    state_reason: z.literal('completed'),
    comment_id: z.number().int().positive().nullable(),
  }),
  mutating: true,
  risk: 'low',
  dryRun: (a) => [
    ...(a.comment ? [op('POST', `github:${a.repo}#${a.number}/comments`, 'Add a comment')] : []),
    op('PATCH', `github:${a.repo}#${a.number}`, 'Set state=closed, state_reason=completed'),
  ],
  simulate: (a, { world }) => ({
    number: a.number,
    html_url: htmlUrl(a.repo, 'issues', a.number),
    state: 'closed' as const,
    state_reason: 'completed' as const,
    comment_id: a.comment ? addComment(world, a.repo, a.number).id : null,
  }),
});

const pullRequest = z.object({
  number: z.number().int().positive(),
  html_url: z.string(),
  title: z.string(),
  state: z.enum(['open', 'closed']),
  draft: z.boolean(),
  merged: z.boolean(),
  merged_at: z.string().nullable(),
  merge_commit_sha: z.string().nullable(),
  user: z.object({ login: z.string() }),
  head: z.object({ ref: z.string(), sha: z.string() }),
  base: z.object({ ref: z.string() }),
});
type PullRequest = z.infer<typeof pullRequest>;

const PR_TITLES = [
  ['Bump connection pool size to 50', 'perf/pool-size'],
  ['Add retry with backoff to payments client', 'feat/payments-retry'],
  ['Switch order search to the new index', 'feat/search-index-v2'],
  ['Cache feature flags for 60s', 'perf/flag-cache'],
  ['Upgrade runtime to Node 22', 'chore/node-22'],
] as const;
const USERS = ['mchen', 'apatel', 'jsmith', 'lgarcia', 'okim'] as const;

/** A pull request this run has not touched: merged into main, as one usually is before a revert. */
function generatedPullRequest(repo: string, number: number): PullRequest {
  const r = rng('github-pr', repo, number);
  const [title, ref] = r.pick(PR_TITLES);
  return {
    number,
    html_url: htmlUrl(repo, 'pull', number),
    title,
    state: 'closed',
    draft: false,
    merged: true,
    merged_at: simTime(-r.int(3_600_000, 7 * 86_400_000)),
    merge_commit_sha: r.chars(40, HEX),
    user: { login: r.pick(USERS) },
    head: { ref, sha: r.chars(40, HEX) },
    base: { ref: 'main' },
  };
}

const pullKey = (repo: string, n: number): string => `github:pull:${repo}#${n}`;
const readPullRequest = (world: SimWorld, repo: string, n: number): PullRequest =>
  readEntity(world, pullKey(repo, n), () => generatedPullRequest(repo, n));

const getPullRequest = defineTool({
  id: 'github.get_pull_request',
  description: 'Read a pull request: state, whether and when it was merged, head and base.',
  args: repoNumber,
  result: pullRequest,
  mutating: false,
  risk: 'low',
  dryRun: (a) => [op('GET', `github:${a.repo}#${a.number}`, 'Read the pull request')],
  simulate: (a, { world }) => readPullRequest(world, a.repo, a.number),
});

const revertPullRequest = defineTool({
  id: 'github.revert_pull_request',
  description: 'Open a pull request that reverts a merged one (GraphQL revertPullRequest). It does not merge it.',
  args: repoNumber.extend({
    title: z.string().min(1).optional().describe('Title of the revert; default `Revert "<original title>"`.'),
    body: freeText().optional().describe('Body of the revert; default `Reverts owner/name#N`.'),
    draft: z.boolean().optional().describe('Open the revert as a draft.'),
  }),
  result: pullRequest.extend({ reverts: z.number().int().positive().describe('The number of the reverted pull request.') }),
  mutating: true,
  risk: 'medium',
  dryRun: (a) => [
    op(
      'POST',
      'github:graphql',
      `revertPullRequest ${a.repo}#${a.number}${a.draft ? ' (draft)' : ''}: opens a pull request, merges nothing`,
    ),
  ],
  simulate: (a, { world }) => {
    const original = readPullRequest(world, a.repo, a.number);
    const number = nextNumber(world, a.repo);
    const r = rng('github-revert', a.repo, a.number, number);
    const revert: PullRequest = {
      number,
      html_url: htmlUrl(a.repo, 'pull', number),
      title: a.title ?? `Revert "${original.title}"`,
      state: 'open',
      draft: a.draft ?? false,
      merged: false,
      merged_at: null,
      merge_commit_sha: null,
      user: { login: 'agentrunbook[bot]' },
      head: { ref: `revert-${a.number}-${original.head.ref}`, sha: r.chars(40, HEX) },
      base: original.base,
    };
    world.set(pullKey(a.repo, number), revert);
    return { ...revert, reverts: a.number };
  },
});

export const githubTools = [
  createIssue,
  commentIssue,
  closeIssue,
  getPullRequest,
  revertPullRequest,
  ...githubDeploymentTools,
];
