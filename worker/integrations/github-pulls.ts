import type { Octokit } from '@octokit/rest';
import { IntegrationError } from './errors';
import { handler, type CallContext, type ToolHandler } from './executor';
import { ownerRepo } from './github-client';
import { findByMarker } from './github-issues';
import { withHtmlMarker } from './markers';

type Ctx = CallContext<Octokit>;
type RepoNumber = { repo: string; number: number };

interface RestPull {
  number: number;
  node_id: string;
  html_url: string;
  title: string;
  state: string;
  draft?: boolean;
  merged?: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  user: { login: string } | null;
  head: { ref: string; sha: string };
  base: { ref: string };
}

/** The catalog's pull-request shape: the fields of GitHub's own a runbook reads. */
function toPullRequest(pr: RestPull) {
  return {
    number: pr.number,
    html_url: pr.html_url,
    title: pr.title,
    state: pr.state,
    draft: pr.draft ?? false,
    merged: pr.merged ?? pr.merged_at !== null,
    merged_at: pr.merged_at,
    merge_commit_sha: pr.merge_commit_sha,
    // A deleted account shows as null; GitHub's web UI calls it "ghost".
    user: { login: pr.user?.login ?? 'ghost' },
    head: { ref: pr.head.ref, sha: pr.head.sha },
    base: { ref: pr.base.ref },
  };
}

async function getPull(client: Octokit, repo: string, number: number): Promise<RestPull> {
  return (await client.rest.pulls.get({ ...ownerRepo(repo), pull_number: number })).data as RestPull;
}

const getPullRequest = handler(async (a: RepoNumber, { client }: Ctx) => toPullRequest(await getPull(client, a.repo, a.number)));

const REVERT = `
  mutation Revert($id: ID!, $title: String, $body: String, $draft: Boolean, $mutationId: String) {
    revertPullRequest(input: { pullRequestId: $id, title: $title, body: $body, draft: $draft, clientMutationId: $mutationId }) {
      revertPullRequest { number }
    }
  }`;

interface RevertAnswer {
  revertPullRequest: { revertPullRequest: { number: number } | null } | null;
}

/**
 * Opens the revert with GraphQL `revertPullRequest` (REST has none), then reads it back over
 * REST so the result has the same shape as `get_pull_request`. Nothing is merged.
 */
const revertPullRequest = handler(
  async (a: RepoNumber & { title?: string; body?: string; draft?: boolean }, { client, key }: Ctx) => {
    const earlier = await findByMarker(client, a.repo, key, 'pr');
    if (earlier) return { ...toPullRequest(await getPull(client, a.repo, earlier.number)), reverts: a.number };

    const original = await getPull(client, a.repo, a.number);
    if (!(original.merged ?? original.merged_at !== null)) {
      throw new IntegrationError('github', 'invalid', `${a.repo}#${a.number} is not merged; only a merged pull request can be reverted`);
    }
    const answer = await client.graphql<RevertAnswer>(REVERT, {
      id: original.node_id,
      title: a.title ?? `Revert "${original.title}"`,
      body: withHtmlMarker(a.body ?? `Reverts ${a.repo}#${a.number}`, key),
      draft: a.draft ?? false,
      mutationId: key,
    });
    const number = answer.revertPullRequest?.revertPullRequest?.number;
    if (number === undefined) {
      throw new IntegrationError('github', 'bad_response', `GitHub opened no revert for ${a.repo}#${a.number}`);
    }
    return { ...toPullRequest(await getPull(client, a.repo, number)), reverts: a.number };
  },
);

export const githubPullHandlers: Record<string, ToolHandler<Octokit>> = {
  'github.get_pull_request': getPullRequest,
  'github.revert_pull_request': revertPullRequest,
};
