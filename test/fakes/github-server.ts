import { FakeApi, FakeHttpError, field, json, serve, type RecordedRequest, type Served } from './fake-server';
import { addStatus, deploymentRoutes, type FakeDeployment } from './github-deployments';

export type { FakeDeployment } from './github-deployments';

/**
 * A fake GitHub REST (and GraphQL `revertPullRequest`) API with in-memory repositories: issues
 * and pull requests sharing one number sequence, comments, issue search, deployments and their
 * statuses. It checks the token, requires a User-Agent as GitHub does, sends rate-limit headers,
 * pages lists with Link headers, and answers errors in GitHub's shape.
 */

export interface GitHubFakeOptions {
  token: string;
  /** The authenticated user's login. */
  login?: string;
  /**
   * What the repository's deployer does with a new deployment: report `in_progress` at once and
   * this end state after `deployerReads` reads of its statuses (default 1); `none` never answers.
   */
  deployer?: 'success' | 'failure' | 'none';
  deployerReads?: number;
}

interface Comment {
  id: number;
  body: string;
  created_at: string;
  user: string;
}

export interface FakeItem {
  number: number;
  kind: 'issue' | 'pr';
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: string[];
  user: string;
  created_at: string;
  comments: Comment[];
  // pull requests only
  draft?: boolean;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  head?: { ref: string; sha: string };
  base?: { ref: string };
}

export interface FakeRepo {
  full_name: string;
  items: Map<number, FakeItem>;
  deployments: FakeDeployment[];
  refs: Map<string, string>;
  nextNumber: number;
}

const DOCS = 'https://docs.github.com/rest';
let ids = 1_000_000;
const nextId = (): number => ids++;
let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
/** Timestamps move forward a second per object, so "newest first" is well defined. */
const tick = (): string => new Date((clock += 1000)).toISOString();
/** A stable made-up commit id for a ref. */
const sha = (seed: string): string =>
  Array.from({ length: 40 }, (_, i) => ((seed.charCodeAt(i % seed.length) * (i + 7)) % 16).toString(16)).join('');
/** GitHub's 422: what was wrong, field by field. */
const validationFailed = (...errors: Record<string, string>[]): Response =>
  json({ message: 'Validation Failed', errors, documentation_url: DOCS }, 422);
/** GraphQL reports errors with HTTP 200. */
const graphqlError = (type: string, message: string): Response =>
  json({ data: { revertPullRequest: null }, errors: [{ type, path: ['revertPullRequest'], message }] });
const UA_REQUIRED = 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.';

export function createGitHubFake(options: GitHubFakeOptions) {
  const login = options.login ?? 'agentrunbook-bot';
  const repos = new Map<string, FakeRepo>();
  let remaining = 5000;
  const reset = String(Math.floor(Date.now() / 1000) + 3600);

  const api = new FakeApi({
    authorize: (req) => {
      const auth = req.headers.authorization ?? '';
      if (!/^(token|bearer) /i.test(auth) || auth.slice(auth.indexOf(' ') + 1) !== options.token) {
        return json({ message: 'Bad credentials', documentation_url: DOCS, status: '401' }, 401);
      }
      if (!req.headers['user-agent']) return json({ message: UA_REQUIRED }, 403);
      return undefined;
    },
    errorBody: (status, message) => ({ message, documentation_url: DOCS, status: String(status) }),
    headers: () => {
      remaining = Math.max(0, remaining - 1);
      return {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': reset,
        'x-ratelimit-used': String(5000 - remaining),
        'x-ratelimit-resource': 'core',
      };
    },
  });

  function repo(fullName: string): FakeRepo {
    let r = repos.get(fullName);
    if (!r) {
      const refs = new Map([['main', sha(`${fullName}main`)]]);
      r = { full_name: fullName, items: new Map(), deployments: [], refs, nextNumber: 1 };
      repos.set(fullName, r);
    }
    return r;
  }
  const existing = (p: Record<string, string>): FakeRepo => {
    const r = repos.get(`${p.owner}/${p.repo}`);
    if (!r) throw new FakeHttpError(404, 'Not Found');
    return r;
  };
  const item = (r: FakeRepo, n: string | number): FakeItem => {
    const found = r.items.get(Number(n));
    if (!found) throw new FakeHttpError(404, 'Not Found');
    return found;
  };
  const base = (req: RecordedRequest): string => `http://${req.headers.host ?? 'github.test'}`;
  const webUrl = (r: FakeRepo, it: FakeItem): string => `https://github.test/${r.full_name}/${it.kind === 'pr' ? 'pull' : 'issues'}/${it.number}`;

  function issueJson(r: FakeRepo, it: FakeItem) {
    return {
      id: it.number + 5_000_000,
      node_id: `I_${r.full_name}#${it.number}`,
      number: it.number,
      title: it.title,
      body: it.body,
      state: it.state,
      state_reason: it.state_reason,
      labels: it.labels.map((name, i) => ({ id: i + 1, name, color: 'ededed' })),
      user: { login: it.user },
      html_url: webUrl(r, it),
      comments: it.comments.length,
      created_at: it.created_at,
      ...(it.kind === 'pr' ? { pull_request: { html_url: webUrl(r, it) } } : {}),
    };
  }

  function pullJson(r: FakeRepo, it: FakeItem) {
    if (it.kind !== 'pr') throw new FakeHttpError(404, 'Not Found');
    return {
      id: it.number + 7_000_000,
      node_id: `PR_${r.full_name}#${it.number}`,
      number: it.number,
      html_url: webUrl(r, it),
      title: it.title,
      body: it.body,
      state: it.state,
      draft: it.draft ?? false,
      merged: Boolean(it.merged_at),
      merged_at: it.merged_at ?? null,
      merge_commit_sha: it.merge_commit_sha ?? null,
      user: { login: it.user },
      head: { ...it.head, label: `${r.full_name.split('/')[0]}:${it.head?.ref}` },
      base: it.base,
      created_at: it.created_at,
    };
  }

  const commentJson = (r: FakeRepo, it: FakeItem, c: Comment) => ({
    id: c.id,
    body: c.body,
    user: { login: c.user },
    html_url: `${webUrl(r, it)}#issuecomment-${c.id}`,
    created_at: c.created_at,
    updated_at: c.created_at,
  });

  /** GitHub pages with `per_page` and `page`, and says where the next page is in a Link header. */
  function page<T>(req: RecordedRequest, all: T[], defaultPerPage = 30): Response {
    const perPage = Math.min(Number(req.query.get('per_page') ?? defaultPerPage), 100);
    const n = Number(req.query.get('page') ?? 1);
    const headers: Record<string, string> = {};
    if (n * perPage < all.length) {
      const next = new URLSearchParams(req.query);
      next.set('page', String(n + 1));
      headers.link = `<${base(req)}${req.path}?${next}>; rel="next"`;
    }
    return json(all.slice((n - 1) * perPage, n * perPage), 200, headers);
  }

  function addItem(r: FakeRepo, fields: Partial<FakeItem> & { title: string; kind: FakeItem['kind'] }): FakeItem {
    const it: FakeItem = {
      number: r.nextNumber++,
      body: null,
      state: 'open',
      state_reason: null,
      labels: [],
      user: login,
      created_at: tick(),
      comments: [],
      ...fields,
    };
    r.items.set(it.number, it);
    return it;
  }

  api
    // The authenticated user (what a connection test reads).
    .on('GET', '/user', () => json({ login, id: 90_001, type: 'Bot', site_admin: false, html_url: `https://github.test/${login}` }))
    .on('GET', '/repos/:owner/:repo/issues', (req, p) => {
      const r = existing(p);
      const state = req.query.get('state') ?? 'open';
      const list = [...r.items.values()].filter((it) => state === 'all' || it.state === state);
      list.sort((a, b) => a.number - b.number);
      if ((req.query.get('direction') ?? 'desc') === 'desc') list.reverse();
      return page(req, list.map((it) => issueJson(r, it)));
    })
    .on('POST', '/repos/:owner/:repo/issues', (req, p) => {
      const r = existing(p);
      const title = field<string>(req.body, 'title');
      if (!title) return validationFailed({ resource: 'Issue', code: 'missing_field', field: 'title' });
      const body = field<string>(req.body, 'body') ?? null;
      const it = addItem(r, { kind: 'issue', title, body, labels: field<string[]>(req.body, 'labels') ?? [] });
      return json(issueJson(r, it), 201);
    })
    .on('GET', '/repos/:owner/:repo/issues/:number', (_req, p) => {
      const r = existing(p);
      return json(issueJson(r, item(r, p.number!)));
    })
    .on('PATCH', '/repos/:owner/:repo/issues/:number', (req, p) => {
      const r = existing(p);
      const it = item(r, p.number!);
      const state = field<string>(req.body, 'state');
      const reason = field<string | null>(req.body, 'state_reason');
      if (state !== undefined && state !== 'open' && state !== 'closed') return validationFailed({ field: 'state', code: 'invalid' });
      if (reason !== undefined && reason !== null && !['completed', 'not_planned', 'reopened'].includes(reason)) {
        return validationFailed({ field: 'state_reason', code: 'invalid' });
      }
      if (state) it.state = state;
      if (reason !== undefined) it.state_reason = reason;
      return json(issueJson(r, it));
    })
    .on('GET', '/repos/:owner/:repo/issues/:number/comments', (req, p) => {
      const r = existing(p);
      const it = item(r, p.number!);
      return page(req, it.comments.map((c) => commentJson(r, it, c)));
    })
    .on('POST', '/repos/:owner/:repo/issues/:number/comments', (req, p) => {
      const r = existing(p);
      const it = item(r, p.number!);
      const body = field<string>(req.body, 'body');
      if (!body) return validationFailed({ resource: 'IssueComment', code: 'missing_field', field: 'body' });
      const c = { id: nextId(), body, created_at: tick(), user: login };
      it.comments.push(c);
      return json(commentJson(r, it, c), 201);
    })
    .on('GET', '/search/issues', (req) => {
      const q = req.query.get('q') ?? '';
      const phrases = [...q.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
      const repoName = /repo:(\S+)/.exec(q)?.[1];
      const kind = /is:(issue|pull-request|pr)\b/.exec(q)?.[1];
      if (!kind) return validationFailed({ message: 'Query must include "is:issue" or "is:pull-request"' });
      const items = [...repos.values()]
        .filter((r) => repoName === undefined || r.full_name === repoName)
        .flatMap((r) => [...r.items.values()].map((it) => ({ r, it })))
        .filter(({ it }) => (kind === 'issue') === (it.kind === 'issue'))
        .filter(({ it }) => phrases.every((ph) => `${it.title}\n${it.body ?? ''}`.includes(ph)));
      return json({ total_count: items.length, incomplete_results: false, items: items.map(({ r, it }) => issueJson(r, it)) });
    })
    .on('GET', '/repos/:owner/:repo/pulls/:number', (_req, p) => {
      const r = existing(p);
      return json(pullJson(r, item(r, p.number!)));
    })
    .on('POST', '/graphql', (req) => {
      const query = field<string>(req.body, 'query') ?? '';
      const vars = field<Record<string, unknown>>(req.body, 'variables') ?? {};
      if (!query.includes('revertPullRequest')) return json({ errors: [{ message: 'Only revertPullRequest is faked' }] });
      const nodeId = String(vars.id);
      const match = /^PR_(.+)#(\d+)$/.exec(nodeId);
      const r = match ? repos.get(match[1]!) : undefined;
      const original = r && match ? r.items.get(Number(match[2])) : undefined;
      if (!r || !original || original.kind !== 'pr') {
        return graphqlError('NOT_FOUND', `Could not resolve to a node with the global id of '${nodeId}'.`);
      }
      if (!original.merged_at) {
        return graphqlError('UNPROCESSABLE', 'Pull request is not merged');
      }
      const headRef = `revert-${original.number}-${original.head?.ref}`;
      r.refs.set(headRef, sha(headRef));
      const revert = addItem(r, {
        kind: 'pr',
        title: String(vars.title ?? `Revert "${original.title}"`),
        body: typeof vars.body === 'string' ? vars.body : `Reverts ${r.full_name}#${original.number}`,
        draft: vars.draft === true,
        merged_at: null,
        merge_commit_sha: null,
        head: { ref: headRef, sha: sha(headRef) },
        base: original.base,
      });
      return json({ data: { revertPullRequest: { clientMutationId: vars.mutationId ?? null, revertPullRequest: { number: revert.number } } } });
    });

  deploymentRoutes(api, {
    existing,
    page,
    login,
    tick,
    nextId,
    deployer: options.deployer ?? 'success',
    deployerReads: options.deployerReads ?? 1,
  });

  return {
    handler: api.handler,
    requests: api.requests,
    fail: api.fail.bind(api),
    writes: api.writes.bind(api),
    repos,
    repo,
    addIssue: (name: string, fields: Partial<FakeItem> & { title: string }) => addItem(repo(name), { ...fields, kind: 'issue' }),
    /** A pull request, merged into main unless told otherwise. */
    addPull(name: string, fields: Partial<FakeItem> & { title: string; headRef: string }): FakeItem {
      const r = repo(name);
      const head = { ref: fields.headRef, sha: sha(`${name}${fields.headRef}`) };
      r.refs.set(head.ref, head.sha);
      const merged = { merged_at: tick(), merge_commit_sha: sha(`${name}${fields.headRef}merge`) };
      return addItem(r, { kind: 'pr', state: 'closed', ...merged, head, base: { ref: 'main' }, user: 'mchen', ...fields });
    },
    /** Seeds the deployment history oldest first; `state` is its latest status. */
    addDeployment(name: string, environment: string, ref: string, state: string): FakeDeployment {
      const r = repo(name);
      if (!r.refs.has(ref)) r.refs.set(ref, sha(`${name}${ref}`));
      const d: FakeDeployment = {
        id: nextId(),
        ref,
        sha: r.refs.get(ref)!,
        environment,
        payload: {},
        description: null,
        creator: 'deploy-bot',
        created_at: tick(),
        statuses: [],
      };
      r.deployments.push(d);
      addStatus({ tick, nextId }, r, d, state, false);
      return d;
    },
  };
}

export type GitHubFake = ReturnType<typeof createGitHubFake>;

/** The fake served over HTTP on a free port (Node tests). */
export async function startGitHubServer(options: GitHubFakeOptions): Promise<GitHubFake & Served> {
  const fake = createGitHubFake(options);
  return { ...fake, ...(await serve(fake.handler)) };
}
