import { describe, expect, it } from 'vitest';
import defaultPolicy from '../policies/default.yaml';
import strictProduction from '../policies/strict-production.yaml';
import changeFreeze from '../policies/change-freeze.yaml';
import readOnlyOncall from '../policies/read-only-oncall.yaml';
import { api, json, newTenant } from './helpers';

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; line?: number; message: string }[] };
}

const BROKEN_CEL = `apiVersion: agentrunbook/v1
kind: Policy
metadata: { name: broken-cel }
spec:
  roles:
    sre: { run: true, approve: true, tools: ["*"] }
    admin: { run: true, approve: true, manage: true, tools: ["*"] }
  rules:
    - name: prod-writes
      when: 'has(context.environment) && context.environment == "prod" && tool.mutating'
      effect: require_approval
    - name: typo
      when: 'tool.risk = "high"'
      effect: deny
`;

describe('POST /policies/validate', () => {
  it('a valid policy → 200 with its name and warnings, and nothing is stored', async () => {
    const t = await newTenant();
    const yaml = defaultPolicy.replace('name: default', 'name: draft').replace('"core.*"]', '"core.*", "k8s.list_*"]');
    const res = await api('/policies/validate', { method: 'POST', key: t.keys.sre, yaml });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ ok: true, name: 'draft', warnings: [{ path: 'spec.roles.operator.tools[5]', line: 9, message: 'tool pattern "k8s.list_*" matches no tool in the catalog' }] });
    const list = await json<{ items: { name: string }[] }>(api('/policies', { key: t.keys.sre }));
    expect(list.items.map((p) => p.name)).toEqual(['default']);
  });

  it('accepts JSON { yaml } as well', async () => {
    const t = await newTenant();
    const res = await api('/policies/validate', { method: 'POST', key: t.keys.admin, json: { yaml: strictProduction } });
    expect(await json(res)).toEqual({ ok: true, name: 'strict-production', warnings: [] });
  });

  it.each([
    ['strict-production', strictProduction],
    ['change-freeze', changeFreeze],
    ['read-only-oncall', readOnlyOncall],
  ])('the shipped policy %s validates cleanly', async (name, yaml) => {
    const t = await newTenant();
    expect(await json(api('/policies/validate', { method: 'POST', key: t.keys.sre, yaml }))).toEqual({ ok: true, name, warnings: [] });
  });

  it('a schema error → 400 naming the field and line', async () => {
    const t = await newTenant();
    const yaml = defaultPolicy.replace('max: 2', 'max: two');
    const res = await api('/policies/validate', { method: 'POST', key: t.keys.sre, yaml });
    expect(res.status).toBe(400);
    const body = await json<ErrorBody>(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details).toEqual([{ path: 'spec.limits[0].max', line: 17, message: expect.stringMatching(/number/) }]);
  });

  it('a `when` that is not valid CEL → 400 at the line of that `when`', async () => {
    const t = await newTenant();
    const res = await api('/policies/validate', { method: 'POST', key: t.keys.sre, yaml: BROKEN_CEL });
    expect(res.status).toBe(400);
    const body = await json<ErrorBody>(res);
    expect(body.error.details).toHaveLength(1);
    expect(body.error.details![0]).toMatchObject({ path: 'spec.rules[1].when', line: 13 });
    expect(body.error.details![0]!.message).toMatch(/^invalid expression: syntax error/);
    expect(body.error.message).toMatch(/^Policy is invalid: invalid expression/);
  });

  it('an approval role the policy does not define → 400 at that role', async () => {
    const t = await newTenant();
    const yaml = defaultPolicy.replace('approval: { roles: [sre, admin]', 'approval: { roles: [sre, security]');
    const res = await api('/policies/validate', { method: 'POST', key: t.keys.sre, yaml });
    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error.details).toEqual([
      { path: 'spec.rules[0].approval.roles[1]', line: 31, message: 'approval role "security" is not a role of this policy' },
    ]);
  });

  it('viewers and operators may not validate (403); sre and admin may', async () => {
    const t = await newTenant();
    for (const role of ['viewer', 'operator'] as const) {
      expect((await api('/policies/validate', { method: 'POST', key: t.keys[role], yaml: defaultPolicy })).status).toBe(403);
    }
    for (const role of ['sre', 'admin'] as const) {
      expect((await api('/policies/validate', { method: 'POST', key: t.keys[role], yaml: defaultPolicy })).status).toBe(200);
    }
  });
});

describe('POST /policies rejects what validation rejects', () => {
  it('a policy with a broken CEL rule is never stored', async () => {
    const t = await newTenant();
    const res = await api('/policies', { method: 'POST', key: t.keys.admin, yaml: BROKEN_CEL });
    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error.details![0]).toMatchObject({ path: 'spec.rules[1].when', line: 13 });
    const list = await json<{ items: { name: string }[] }>(api('/policies', { key: t.keys.admin }));
    expect(list.items.map((p) => p.name)).not.toContain('broken-cel');
  });

  it('an unknown approval role → 400; the fixed policy is stored with its warnings', async () => {
    const t = await newTenant();
    const bad = defaultPolicy.replace('name: default', 'name: team').replace('approval: { roles: [sre, admin]', 'approval: { roles: [sre, admins]');
    const rejected = await api('/policies', { method: 'POST', key: t.keys.admin, yaml: bad });
    expect(rejected.status).toBe(400);
    expect((await json<ErrorBody>(rejected)).error.details![0]!.message).toBe('approval role "admins" is not a role of this policy; did you mean "admin"?');
    const fixed = defaultPolicy.replace('name: default', 'name: team').replace('"core.*"]', '"core.*", "aws.*"]');
    const created = await api('/policies', { method: 'POST', key: t.keys.admin, yaml: fixed });
    const body = await json<{ id: string; name: string; version: number; warnings: { path: string }[] }>(created);
    expect(created.status).toBe(201);
    expect(body).toMatchObject({ name: 'team', version: 1, warnings: [{ path: 'spec.roles.operator.tools[5]' }] });
  });
});

describe('GET /policies/{id}/diff', () => {
  async function save(key: string, yaml: string) {
    const res = await api('/policies', { method: 'POST', key, yaml });
    const body = await json<{ id: string; name: string; version: number }>(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body;
  }

  it('diffs two versions: semantic changes and a unified diff of the YAML', async () => {
    const t = await newTenant();
    const v1 = await save(t.keys.admin, defaultPolicy.replace('name: default', 'name: team'));
    const v2yaml = defaultPolicy
      .replace('name: default', 'name: team')
      .replace('max_steps: 40', 'max_steps: 20')
      .replace('    viewer:   { }\n', '')
      .replace('count: 1, distinct_from_requester: true', 'count: 2, distinct_from_requester: true')
      .concat(`    - name: no-kube-system
      when: 'tool.mutating && has(args.namespace) && args.namespace == "kube-system"'
      effect: deny
`);
    const v2 = await save(t.keys.admin, v2yaml);
    expect(v2).toMatchObject({ name: 'team', version: 2 });

    const res = await api(`/policies/${v2.id}/diff?against=${v1.id}`, { key: t.keys.viewer });
    const body = await json<{ from: unknown; to: unknown; changes: { kind: string; change: string; name?: string; fields?: { field: string }[] }[]; unified: string }>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.from).toEqual({ id: v1.id, name: 'team', version: 1 });
    expect(body.to).toEqual({ id: v2.id, name: 'team', version: 2 });
    expect(body.changes.map((c) => [c.kind, c.change, c.name ?? null, (c.fields ?? []).map((f) => f.field)])).toEqual([
      ['role', 'removed', 'viewer', []],
      ['rule', 'changed', 'prod-writes-need-approval', ['approval.count']],
      ['rule', 'added', 'no-kube-system', []],
      ['budgets', 'changed', null, ['per_run.max_steps']],
    ]);
    expect(body.unified).toContain('--- team@v1');
    expect(body.unified).toContain('+++ team@v2');
    expect(body.unified).toContain('-    viewer:   { }');
    expect(body.unified).toContain('+    - name: no-kube-system');

    // The other direction reverses every change.
    const back = await json<{ changes: { kind: string; change: string }[] }>(api(`/policies/${v1.id}/diff?against=${v2.id}`, { key: t.keys.viewer }));
    expect(back.changes.map((c) => `${c.kind}:${c.change}`)).toEqual(['role:added', 'rule:removed', 'rule:changed', 'budgets:changed']);
  });

  it('a version against itself has no changes and an empty diff body', async () => {
    const t = await newTenant();
    const [p] = (await json<{ items: { id: string }[] }>(api('/policies', { key: t.keys.viewer }))).items;
    const body = await json<{ changes: unknown[]; unified: string }>(api(`/policies/${p!.id}/diff?against=${p!.id}`, { key: t.keys.viewer }));
    expect(body.changes).toEqual([]);
    expect(body.unified).not.toContain('@@');
  });

  it('either id belonging to another tenant → 404', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const [pa] = (await json<{ items: { id: string }[] }>(api('/policies', { key: a.keys.admin }))).items;
    const [pb] = (await json<{ items: { id: string }[] }>(api('/policies', { key: b.keys.admin }))).items;
    expect((await api(`/policies/${pa!.id}/diff?against=${pb!.id}`, { key: a.keys.admin })).status).toBe(404);
    expect((await api(`/policies/${pb!.id}/diff?against=${pa!.id}`, { key: a.keys.admin })).status).toBe(404);
    expect((await api(`/policies/${pa!.id}/diff?against=pol_nope`, { key: a.keys.admin })).status).toBe(404);
  });

  it('without `against` → 400 naming the parameter', async () => {
    const t = await newTenant();
    const [p] = (await json<{ items: { id: string }[] }>(api('/policies', { key: t.keys.viewer }))).items;
    const res = await api(`/policies/${p!.id}/diff`, { key: t.keys.viewer });
    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error.details![0]!.path).toBe('query.against');
  });

  it('is documented in the OpenAPI document with validate and simulate', async () => {
    const doc = await json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(api('/openapi.json'));
    expect(doc.paths['/policies/{id}/diff']?.get?.responses['200']).toBeDefined();
    expect(doc.paths['/policies/validate']?.post?.responses['200']).toBeDefined();
    expect(doc.paths['/policies/{id}/simulate']?.post?.responses['200']).toBeDefined();
  });
});
