import type { Octokit } from '@octokit/rest';
import { handler, type CallContext, type ToolHandler } from './executor';
import { ownerRepo } from './github-client';
import { hasHtmlMarker, markerSearchTerm, withHtmlMarker } from './markers';

/**
 * Live GitHub issue tools. GitHub has no idempotency keys, so issue, comment and pull-request
 * bodies carry the call's key in an HTML comment, and a create first looks for it.
 */

type Ctx = CallContext<Octokit>;

interface IssueLike {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  pull_request?: unknown;
  labels: (string | { name?: string })[];
}

/**
 * The issue (or pull request) a call with this key opened, if any. The newest issues are read
 * first because listing is consistent at once; search reaches older ones, but its index lags
 * by up to a minute, which the listing covers.
 */
export async function findByMarker(octokit: Octokit, repo: string, key: string, kind: 'issue' | 'pr'): Promise<IssueLike | undefined> {
  const isKind = (item: IssueLike): boolean => (kind === 'pr') === Boolean(item.pull_request);
  const recent = await octokit.rest.issues.listForRepo({ ...ownerRepo(repo), state: 'all', sort: 'created', direction: 'desc', per_page: 50 });
  const listed = recent.data.find((item) => isKind(item) && hasHtmlMarker(item.body, key));
  if (listed) return listed;
  const found = await octokit.rest.search.issuesAndPullRequests({
    q: `"${markerSearchTerm(key)}" repo:${repo} is:${kind === 'pr' ? 'pull-request' : 'issue'} in:body`,
    per_page: 10,
  });
  return found.data.items.find((item) => isKind(item) && hasHtmlMarker(item.body, key));
}

const labelNames = (labels: IssueLike['labels']): string[] =>
  labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))).filter(Boolean);

const createIssue = handler(async (a: { repo: string; title: string; body?: string; labels?: string[] }, { client, key }: Ctx) => {
  const issue =
    (await findByMarker(client, a.repo, key, 'issue')) ??
    (await client.rest.issues.create({ ...ownerRepo(a.repo), title: a.title, body: withHtmlMarker(a.body, key), labels: a.labels })).data;
  // The outcome of this call is an issue it opened, even if someone has closed it since.
  return { number: issue.number, html_url: issue.html_url, state: 'open', title: issue.title, labels: labelNames(issue.labels) };
});

interface Comment {
  id: number;
  html_url: string;
  created_at: string;
}

/** Comments come oldest first and an incident issue has few, so reading them all is cheap. */
async function findComment(client: Octokit, repo: string, issue: number, key: string): Promise<Comment | undefined> {
  const pages = client.paginate.iterator(client.rest.issues.listComments, { ...ownerRepo(repo), issue_number: issue, per_page: 100 });
  for await (const page of pages) {
    const hit = page.data.find((comment) => hasHtmlMarker(comment.body, key));
    if (hit) return hit;
  }
  return undefined;
}

async function comment(client: Octokit, repo: string, issue: number, body: string, key: string): Promise<Comment> {
  return (
    (await findComment(client, repo, issue, key)) ??
    (await client.rest.issues.createComment({ ...ownerRepo(repo), issue_number: issue, body: withHtmlMarker(body, key) })).data
  );
}

const commentIssue = handler(async (a: { repo: string; number: number; body: string }, { client, key }: Ctx) => {
  const c = await comment(client, a.repo, a.number, a.body, key);
  return { id: c.id, html_url: c.html_url, issue_number: a.number, created_at: c.created_at };
});

/** Closing is idempotent by nature; the optional comment is made idempotent by its marker. */
const closeIssue = handler(async (a: { repo: string; number: number; comment?: string }, { client, key }: Ctx) => {
  const c = a.comment ? await comment(client, a.repo, a.number, a.comment, key) : undefined;
  const { data } = await client.rest.issues.update({ ...ownerRepo(a.repo), issue_number: a.number, state: 'closed', state_reason: 'completed' });
  return { number: data.number, html_url: data.html_url, state: 'closed', state_reason: 'completed', comment_id: c?.id ?? null };
});

export const githubIssueHandlers: Record<string, ToolHandler<Octokit>> = {
  'github.create_issue': createIssue,
  'github.comment_issue': commentIssue,
  'github.close_issue': closeIssue,
};
