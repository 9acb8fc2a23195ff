import { FakeApi, FakeHttpError, field, json, serve, type RecordedRequest, type Served } from './fake-server';

/**
 * A fake Jira Cloud REST API v3: projects, issues (rich text as Atlassian Document Format), the
 * enhanced JQL search (`/search/jql`, clauses `field = "value"` joined by AND), transitions of a
 * three-status workflow, comments with their properties, and issue properties. Basic auth
 * (email:API token) or a bearer personal access token; errors in Jira's
 * `{ errorMessages, errors }` shape.
 */

export interface JiraFakeOptions {
  email?: string;
  apiToken?: string;
  /** A personal access token (Data Center), sent as a bearer token. */
  bearer?: string;
  projects?: string[];
}

interface Comment {
  id: string;
  body: unknown;
  created: string;
  properties: { key: string; value: unknown }[];
}

export interface FakeIssue {
  id: string;
  key: string;
  project: string;
  summary: string;
  description: unknown;
  issuetype: string;
  labels: string[];
  status: string;
  created: string;
  comments: Comment[];
  properties: Map<string, unknown>;
}

const STATUSES = [
  { id: '10000', name: 'To Do' },
  { id: '3', name: 'In Progress' },
  { id: '10001', name: 'Done' },
];
/** Company-managed names, so a transition's name and its target status differ. */
const TRANSITIONS = [
  { id: '11', name: 'Stop Progress', to: 'To Do' },
  { id: '21', name: 'Start Progress', to: 'In Progress' },
  { id: '31', name: 'Done', to: 'Done' },
];
const ISSUE_TYPES = ['Task', 'Bug', 'Incident', 'Story'];

let ids = 10_000;
let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
const tick = (): string => new Date((clock += 1000)).toISOString().replace('Z', '+0000');

const err = (errorMessages: string[], errors: Record<string, string> = {}) => ({ errorMessages, errors });

export function createJiraFake(options: JiraFakeOptions) {
  const projects = new Set(options.projects ?? ['OPS']);
  const counters = new Map<string, number>();
  const issues = new Map<string, FakeIssue>();
  const basic = options.email && options.apiToken ? `Basic ${btoa(`${options.email}:${options.apiToken}`)}` : undefined;

  const api = new FakeApi({
    authorize: (req) => {
      const auth = req.headers.authorization;
      if (auth !== undefined && (auth === basic || (options.bearer !== undefined && auth === `Bearer ${options.bearer}`))) return undefined;
      return json(err(['You are not authenticated. Authentication required to perform this operation.']), 401);
    },
    errorBody: (_status, message) => err([message]),
  });

  const site = (req: RecordedRequest): string => `http://${req.headers.host ?? 'jira.test'}`;
  const self = (req: RecordedRequest, i: FakeIssue): string => `${site(req)}/rest/api/3/issue/${i.id}`;
  const statusOf = (name: string) => STATUSES.find((s) => s.name === name)!;

  function add(fields: Pick<FakeIssue, 'project' | 'summary' | 'description' | 'issuetype' | 'labels' | 'status'>): FakeIssue {
    const n = (counters.get(fields.project) ?? 0) + 1;
    counters.set(fields.project, n);
    const i: FakeIssue = { ...fields, id: String(ids++), key: `${fields.project}-${n}`, created: tick(), comments: [], properties: new Map() };
    issues.set(i.key, i);
    return i;
  }

  function issue(key: string): FakeIssue {
    const found = issues.get(key) ?? [...issues.values()].find((i) => i.id === key);
    if (!found) throw new FakeHttpError(404, 'Issue does not exist or you do not have permission to see it.');
    return found;
  }

  function issueJson(req: RecordedRequest, i: FakeIssue, fields?: string[]) {
    const all: Record<string, unknown> = {
      summary: i.summary,
      description: i.description,
      status: { ...statusOf(i.status), self: `${site(req)}/rest/api/3/status/${statusOf(i.status).id}` },
      issuetype: { name: i.issuetype },
      labels: i.labels,
      created: i.created,
      project: { key: i.project },
    };
    const wanted = fields && !fields.includes('*all') ? fields : Object.keys(all);
    return { id: i.id, key: i.key, self: self(req, i), fields: Object.fromEntries(wanted.filter((f) => f in all).map((f) => [f, all[f]])) };
  }

  const commentJson = (req: RecordedRequest, i: FakeIssue, c: Comment, withProperties = false) => ({
    id: c.id,
    self: `${self(req, i)}/comment/${c.id}`,
    body: c.body,
    author: { displayName: 'AgentRunbook', accountType: 'app' },
    created: c.created,
    updated: c.created,
    ...(withProperties ? { properties: c.properties } : {}),
  });

  const isAdf = (value: unknown): boolean => field<string>(value, 'type') === 'doc' && field<number>(value, 'version') === 1;

  /** Only what the integration sends: `field = "value"` clauses joined by AND. */
  function jqlFilter(jql: string): (i: FakeIssue) => boolean {
    const clauses = jql.split(/\s+AND\s+/i).map((clause) => {
      const m = /^\s*(\w+)\s*=\s*"?([^"]*)"?\s*$/.exec(clause);
      if (!m) throw new FakeHttpError(400, `Error in the JQL Query: cannot parse '${clause}'.`);
      const [, name, value] = m as unknown as [string, string, string];
      if (name === 'project') return (i: FakeIssue) => i.project === value;
      if (name === 'labels') return (i: FakeIssue) => i.labels.includes(value);
      if (name === 'key') return (i: FakeIssue) => i.key === value;
      throw new FakeHttpError(400, `Field '${name}' does not exist or you do not have permission to view it.`);
    });
    return (i) => clauses.every((c) => c(i));
  }

  api
    .on('POST', '/rest/api/3/issue', (req) => {
      const f = field<Record<string, unknown>>(req.body, 'fields') ?? {};
      const project = field<string>(f, 'project', 'key') ?? '';
      const type = field<string>(f, 'issuetype', 'name') ?? '';
      const labels = field<string[]>(f, 'labels') ?? [];
      const errors: Record<string, string> = {};
      if (!projects.has(project)) errors.project = 'valid project is required';
      if (!ISSUE_TYPES.includes(type)) errors.issuetype = 'Specify a valid issue type';
      if (typeof f.summary !== 'string' || f.summary === '') errors.summary = 'You must specify a summary of the issue.';
      if (f.description !== undefined && !isAdf(f.description)) errors.description = 'Operation value must be an Atlassian Document';
      if (labels.some((l) => /\s/.test(l))) errors.labels = 'The label cannot contain spaces.';
      if (Object.keys(errors).length) return json(err([], errors), 400);
      const created = add({ project, summary: f.summary as string, description: f.description ?? null, issuetype: type, labels, status: 'To Do' });
      return json({ id: created.id, key: created.key, self: self(req, created) }, 201);
    })
    .on('GET', '/rest/api/3/issue/:key', (req, p) => json(issueJson(req, issue(p.key!), req.query.get('fields')?.split(','))))
    .on('GET', '/rest/api/3/search/jql', (req) => {
      const jql = req.query.get('jql');
      if (!jql) throw new FakeHttpError(400, 'The JQL query is required (unbounded searches are not allowed).');
      const fields = req.query.get('fields')?.split(',');
      const max = Number(req.query.get('maxResults') ?? 50);
      const hits = [...issues.values()].filter(jqlFilter(jql));
      return json({ issues: hits.slice(0, max).map((i) => issueJson(req, i, fields)), isLast: hits.length <= max });
    })
    .on('GET', '/rest/api/3/issue/:key/transitions', (_req, p) => {
      const i = issue(p.key!);
      const transitions = TRANSITIONS.filter((t) => t.to !== i.status).map((t) => ({
        id: t.id,
        name: t.name,
        to: statusOf(t.to),
        isAvailable: true,
      }));
      return json({ expand: 'transitions', transitions });
    })
    .on('POST', '/rest/api/3/issue/:key/transitions', (req, p) => {
      const i = issue(p.key!);
      const id = field<string>(req.body, 'transition', 'id');
      const t = TRANSITIONS.find((x) => x.id === id && x.to !== i.status);
      if (!t) return json(err([`Transition id '${id}' is not valid for this issue.`]), 400);
      i.status = t.to;
      return json(null, 204);
    })
    .on('GET', '/rest/api/3/issue/:key/properties/:property', (_req, p) => {
      const i = issue(p.key!);
      if (!i.properties.has(p.property!)) throw new FakeHttpError(404, `The property with key '${p.property}' does not exist.`);
      return json({ key: p.property, value: i.properties.get(p.property!) });
    })
    .on('PUT', '/rest/api/3/issue/:key/properties/:property', (req, p) => {
      const i = issue(p.key!);
      const isNew = !i.properties.has(p.property!);
      i.properties.set(p.property!, req.body);
      return json(null, isNew ? 201 : 200);
    })
    .on('GET', '/rest/api/3/issue/:key/comment', (req, p) => {
      const i = issue(p.key!);
      const all = [...i.comments];
      if (req.query.get('orderBy') === '-created') all.reverse();
      const startAt = Number(req.query.get('startAt') ?? 0);
      const max = Number(req.query.get('maxResults') ?? 50);
      return json({ startAt, maxResults: max, total: all.length, comments: all.slice(startAt, startAt + max).map((c) => commentJson(req, i, c)) });
    })
    .on('POST', '/rest/api/3/issue/:key/comment', (req, p) => {
      const i = issue(p.key!);
      const body = field(req.body, 'body');
      if (!isAdf(body)) return json(err([], { comment: 'Comment body must be an Atlassian Document' }), 400);
      const c: Comment = { id: String(ids++), body, created: tick(), properties: field<Comment['properties']>(req.body, 'properties') ?? [] };
      i.comments.push(c);
      return json(commentJson(req, i, c), 201);
    })
    .on('POST', '/rest/api/3/comment/list', (req) => {
      const wanted = new Set((field<number[]>(req.body, 'ids') ?? []).map(String));
      const withProperties = (req.query.get('expand') ?? '').split(',').includes('properties');
      const values = [...issues.values()].flatMap((i) =>
        i.comments.filter((c) => wanted.has(c.id)).map((c) => commentJson(req, i, c, withProperties)),
      );
      return json({ startAt: 0, maxResults: 1000, total: values.length, isLast: true, values });
    });

  return {
    handler: api.handler,
    requests: api.requests,
    fail: api.fail.bind(api),
    writes: api.writes.bind(api),
    issues,
    /** An issue made outside the integration (no call label). */
    addIssue: (project: string, summary: string, status = 'To Do'): FakeIssue =>
      add({ project, summary, description: null, issuetype: 'Task', labels: [], status }),
  };
}

export type JiraFake = ReturnType<typeof createJiraFake>;

export async function startJiraServer(options: JiraFakeOptions): Promise<JiraFake & Served> {
  const fake = createJiraFake(options);
  return { ...fake, ...(await serve(fake.handler)) };
}
