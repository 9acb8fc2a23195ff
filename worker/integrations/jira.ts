import type { Version3Client } from 'jira.js';
import { IntegrationError } from './errors';
import { createExecutor, handler, type CallContext } from './executor';
import { adf } from './jira-adf';
import { classifyJiraError, jiraClient, jiraSecrets } from './jira-client';
import { jiraTransitionIssue } from './jira-transition';
import { jiraCallLabel, keyDigest } from './markers';
import { DEFAULT_RETRY, type ExecutorOptions, type IntegrationSettings, type JiraCredentials, type LiveExecutor } from './types';

/**
 * The live `jira.*` tools, through jira.js (REST API v3). Jira has no idempotency keys: an issue
 * a call creates carries a label naming the call, a comment carries a comment property, and a
 * transition records itself in an issue property (jira-transition.ts).
 */

type Ctx = CallContext<Version3Client>;

const FIELDS = ['summary', 'status', 'issuetype', 'labels', 'created'];

interface CreateArgs {
  project: string;
  summary: string;
  description?: string;
  issue_type: string;
  labels?: string[];
}

/**
 * Search is backed by an index that may lag a new issue by seconds; a re-delivery comes after a
 * crash and a restart, later than that.
 */
const createIssue = handler(async (a: CreateArgs, { client, key }: Ctx) => {
  const label = jiraCallLabel(await keyDigest(key));
  const found = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
    jql: `project = "${a.project}" AND labels = "${label}"`,
    fields: ['summary'],
    maxResults: 1,
  });
  const earlier = found.issues?.[0];
  if (earlier?.key && earlier.id && earlier.self) return { key: earlier.key, id: earlier.id, self: earlier.self };
  return client.issues.createIssue({
    fields: {
      project: { key: a.project },
      summary: a.summary,
      issuetype: { name: a.issue_type },
      labels: [...(a.labels ?? []), label],
      ...(a.description ? { description: adf(a.description) } : {}),
    },
  });
});

const getIssue = handler(async (a: { key: string }, { client }: Ctx) => {
  const issue = await client.issues.getIssue({ issueIdOrKey: a.key, fields: FIELDS });
  const f = issue.fields as Record<string, unknown> & {
    status?: { name?: string };
    issuetype?: { name?: string };
  };
  return {
    key: issue.key,
    id: issue.id,
    self: issue.self,
    fields: {
      summary: f.summary,
      status: { name: f.status?.name },
      issuetype: { name: f.issuetype?.name },
      labels: f.labels ?? [],
      created: f.created,
    },
  };
});

const COMMENT_PROPERTY = 'agentrunbook';

/** The newest comments are read with their properties; a re-delivered call's comment is among them. */
async function findComment(client: Version3Client, issue: string, key: string) {
  const recent = await client.issueComments.getComments({ issueIdOrKey: issue, orderBy: '-created', maxResults: 50 });
  const ids = (recent.comments ?? []).map((c) => Number(c.id)).filter((id) => Number.isFinite(id));
  if (ids.length === 0) return undefined;
  const page = await client.issueComments.getCommentsByIds({ ids, expand: 'properties' });
  return (page.values ?? []).find((c) =>
    (c.properties ?? []).some((p) => p.key === COMMENT_PROPERTY && (p.value as { idempotency_key?: string } | undefined)?.idempotency_key === key),
  );
}

const addComment = handler(async (a: { key: string; body: string }, { client, key }: Ctx) => {
  const comment =
    (await findComment(client, a.key, key)) ??
    (await client.issueComments.addComment({
      issueIdOrKey: a.key,
      comment: adf(a.body),
      properties: [{ key: COMMENT_PROPERTY, value: { idempotency_key: key } }],
    }));
  if (!comment?.id || !comment.self || !comment.created) {
    throw new IntegrationError('jira', 'bad_response', `Jira answered the comment on ${a.key} without id, self or created`);
  }
  return { id: comment.id, self: comment.self, created: comment.created };
});

/** Jira has no public API root: `base_url` is the site, e.g. `https://acme.atlassian.net`. */
export function createJiraExecutor(settings: IntegrationSettings<JiraCredentials>, options: ExecutorOptions = {}): LiveExecutor {
  const { base_url } = settings;
  if (!base_url) throw new IntegrationError('jira', 'invalid', 'Jira needs its site URL as base_url, e.g. https://acme.atlassian.net');
  return createExecutor({
    vendor: 'jira',
    handlers: {
      'jira.create_issue': createIssue,
      'jira.get_issue': getIssue,
      'jira.transition_issue': jiraTransitionIssue,
      'jira.add_comment': addComment,
    },
    connect: (signal) => jiraClient({ ...settings, base_url }, signal),
    classify: (err) => classifyJiraError(err),
    secrets: jiraSecrets(settings.credentials),
    retry: { ...DEFAULT_RETRY, ...options.retry },
  });
}
