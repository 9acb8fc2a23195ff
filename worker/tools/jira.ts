import { z } from 'zod';
import { defineTool, freeText, op } from './define';
import { nextCounter, readEntity, rng, simTime } from './sim';
import type { SimWorld } from './types';

/**
 * Jira tools (REST API v3). All low risk: they change tickets, not systems. Creating an issue or
 * a comment has no compensation — the record of a failed run is worth keeping — while a
 * transition is undone by transitioning back to the status it left.
 */

/** Simulated issues live on a made-up site; live mode uses the tenant's own. */
const SITE = 'https://example.atlassian.net';

const keyArg = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]+-[1-9]\d*$/, 'must be an issue key such as "OPS-123"')
  .describe('The issue key, e.g. "OPS-123".');
const keyArgs = z.object({ key: keyArg }).strict();

interface JiraIssue {
  id: string;
  summary: string;
  status: string;
  issue_type: string;
  labels: string[];
  created: string;
}

const issueKey = (key: string): string => `jira:issue:${key}`;
const selfUrl = (id: string): string => `${SITE}/rest/api/3/issue/${id}`;

/** An issue this run did not create: plausible, and the same every time it is read. */
function generatedIssue(key: string): JiraIssue {
  const r = rng('jira-issue', key);
  return {
    id: String(r.int(10_000, 99_999)),
    summary: r.pick(['Checkout latency above SLO', 'Disk pressure on worker nodes', 'Error rate spike in payments-api']),
    status: r.pick(['To Do', 'In Progress', 'Done']),
    issue_type: r.pick(['Task', 'Bug', 'Incident']),
    labels: [],
    created: simTime(-r.int(3_600_000, 14 * 86_400_000)),
  };
}

const readIssue = (world: SimWorld, key: string): JiraIssue => readEntity(world, issueKey(key), () => generatedIssue(key));

const createIssue = defineTool({
  id: 'jira.create_issue',
  description: 'Create an issue in a Jira project.',
  args: z
    .object({
      project: z
        .string()
        .regex(/^[A-Z][A-Z0-9_]{1,9}$/, 'must be a project key such as "OPS"')
        .describe('The project key, e.g. "OPS".'),
      summary: z.string().min(1).max(255).describe('The issue summary (one line).'),
      description: freeText().optional().describe('The issue description (plain text).'),
      issue_type: z
        .string()
        .min(1)
        .default('Task')
        .describe('The issue type name, e.g. "Task", "Bug", "Incident" (default "Task").'),
      labels: z.array(z.string().regex(/^\S+$/, 'labels cannot contain spaces')).optional().describe('Labels to set.'),
    })
    .strict(),
  // Exactly what `POST /rest/api/3/issue` answers.
  result: z.object({ key: z.string(), id: z.string(), self: z.string() }),
  mutating: true,
  risk: 'low',
  dryRun: (a) => [op('POST', `jira:${a.project}`, `Create ${a.issue_type} "${a.summary}"`)],
  simulate: (a, { world }) => {
    const n = nextCounter(world, `jira:next-number:${a.project}`, rng('jira-numbers', a.project).int(100, 4000));
    const key = `${a.project}-${n}`;
    const id = String(nextCounter(world, 'jira:next-id', rng('jira-ids', a.project).int(10_000, 60_000)));
    const issue: JiraIssue = {
      id,
      summary: a.summary,
      status: 'To Do',
      issue_type: a.issue_type,
      labels: a.labels ?? [],
      created: simTime(n * 1000),
    };
    world.set(issueKey(key), issue);
    return { key, id, self: selfUrl(id) };
  },
});

const named = z.object({ name: z.string() });

const getIssue = defineTool({
  id: 'jira.get_issue',
  description: 'Read an issue: summary, status, type and labels.',
  args: keyArgs,
  // The subset of Jira's issue representation runbooks use, in Jira's own shape.
  result: z.object({
    key: z.string(),
    id: z.string(),
    self: z.string(),
    fields: z.object({
      summary: z.string(),
      status: named,
      issuetype: named,
      labels: z.array(z.string()),
      created: z.string(),
    }),
  }),
  mutating: false,
  risk: 'low',
  dryRun: (a) => [op('GET', `jira:${a.key}`, 'Read the issue')],
  simulate: ({ key }, { world }) => {
    const issue = readIssue(world, key);
    return {
      key,
      id: issue.id,
      self: selfUrl(issue.id),
      fields: {
        summary: issue.summary,
        status: { name: issue.status },
        issuetype: { name: issue.issue_type },
        labels: issue.labels,
        created: issue.created,
      },
    };
  },
});

/**
 * Where the usual transitions of Jira's default workflows lead (by name or id). Any other name
 * is taken to lead to the status of the same name, as in simplified (team-managed) workflows.
 */
const TRANSITIONS: Record<string, string> = {
  '11': 'To Do',
  '21': 'In Progress',
  '31': 'Done',
  'start progress': 'In Progress',
  'stop progress': 'To Do',
  'resolve issue': 'Resolved',
  'close issue': 'Closed',
  'reopen issue': 'Reopened',
};

const transitionIssue = defineTool({
  id: 'jira.transition_issue',
  description: 'Move an issue through its workflow by transition name (e.g. "Done", "Start Progress") or id.',
  args: keyArgs.extend({
    transition: z.string().min(1).describe('The transition name or id, e.g. "Done", "In Progress", "31".'),
  }),
  result: z.object({
    key: z.string(),
    transition: z.string(),
    previous_status: z.string(),
    status: z.string(),
  }),
  mutating: true,
  risk: 'low',
  compensation: {
    tool: 'jira.transition_issue',
    args: (a, result) => ({ key: a.key, transition: result.previous_status }),
  },
  dryRun: (a) => [op('POST', `jira:${a.key}/transitions`, `Apply transition "${a.transition}"`)],
  simulate: ({ key, transition }, { world }) => {
    const issue = readIssue(world, key);
    const status = TRANSITIONS[transition.toLowerCase()] ?? transition;
    world.set(issueKey(key), { ...issue, status });
    return { key, transition, previous_status: issue.status, status };
  },
});

const addComment = defineTool({
  id: 'jira.add_comment',
  description: 'Add a comment to an issue.',
  args: keyArgs.extend({ body: freeText().min(1).describe('The comment (plain text).') }),
  result: z.object({ id: z.string(), self: z.string(), created: z.string() }),
  mutating: true,
  risk: 'low',
  dryRun: (a) => [op('POST', `jira:${a.key}/comment`, 'Add a comment')],
  simulate: ({ key }, { world }) => {
    const issue = readIssue(world, key);
    const id = String(nextCounter(world, 'jira:next-comment-id', rng('jira-comments', key).int(10_000, 90_000)));
    return { id, self: `${selfUrl(issue.id)}/comment/${id}`, created: simTime(Number(id)) };
  },
});

export const jiraTools = [createIssue, getIssue, transitionIssue, addComment];
