import { describe, expect, it } from 'vitest';
import { api, json, newTenant } from './helpers';
import { createRunbook } from './run-helpers';

const V1 = `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: restart-api
  description: Restart the API deployment.
spec:
  inputs:
    cluster: { type: string, default: prod-eu }
  steps:
    - id: restart
      tool: k8s.restart_deployment
      with: { cluster: '\${{ inputs.cluster }}', namespace: web, name: api }
`;

describe('runbooks', () => {
  it('YAML with an unknown tool → 400 naming path, line and a suggestion', async () => {
    const t = await newTenant();
    const yaml = V1.replace('k8s.restart_deployment', 'k8s.drian_node');
    const res = await api('/runbooks', { method: 'POST', key: t.keys.sre, yaml });
    expect(res.status).toBe(400);
    const body = await json<{ error: { code: string; details: { path: string; line: number; message: string }[] } }>(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details[0]).toMatchObject({ path: 'spec.steps[0].tool', line: 11 });
    expect(body.error.details[0]!.message).toContain('did you mean "k8s.drain_node"');
  });

  it('accepts YAML as JSON { yaml } too; duplicate names conflict', async () => {
    const t = await newTenant();
    const res = await api('/runbooks', { method: 'POST', key: t.keys.sre, json: { yaml: V1 } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'restart-api', version: 1 });
    const again = await api('/runbooks', { method: 'POST', key: t.keys.sre, yaml: V1 });
    expect(again.status).toBe(409);
  });

  it('update makes a new version and keeps the old; archive hides it from the list and from new runs', async () => {
    const t = await newTenant();
    const { id } = await createRunbook(t.keys.sre, V1);
    const v2 = V1.replace('Restart the API deployment.', 'Restart the API deployment (v2).');
    const res = await api(`/runbooks/${id}`, { method: 'PUT', key: t.keys.sre, yaml: v2 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, version: 2 });
    const got = await json<{ version: number; description: string; versions: { version: number }[]; yaml: string }>(api('/runbooks/restart-api', { key: t.keys.viewer }));
    expect(got.version).toBe(2);
    expect(got.description).toContain('(v2)');
    expect(got.versions.map((v) => v.version)).toEqual([2, 1]);
    const old = await json<{ yaml: string }>(api('/runbooks/restart-api?version=1', { key: t.keys.viewer }));
    expect(old.yaml).toBe(V1);
    // A bad update changes nothing.
    const bad = await api(`/runbooks/${id}`, { method: 'PUT', key: t.keys.sre, yaml: v2.replace('name: api', 'nmae: api') });
    expect(bad.status).toBe(400);
    expect((await json<{ version: number }>(api('/runbooks/restart-api', { key: t.keys.viewer }))).version).toBe(2);
    // Renaming through an update is refused.
    const renamed = await api(`/runbooks/${id}`, { method: 'PUT', key: t.keys.sre, yaml: v2.replace('name: restart-api', 'name: other') });
    expect(renamed.status).toBe(400);

    expect((await api(`/runbooks/${id}`, { method: 'DELETE', key: t.keys.sre })).status).toBe(200);
    const list = await json<{ items: { name: string }[] }>(api('/runbooks', { key: t.keys.viewer }));
    expect(list.items.map((r) => r.name)).not.toContain('restart-api');
    const archived = await json<{ items: { name: string; archived: boolean }[] }>(api('/runbooks?archived=true', { key: t.keys.viewer }));
    expect(archived.items).toContainEqual(expect.objectContaining({ name: 'restart-api', archived: true }));
    const run = await api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'restart-api' } });
    expect(run.status).toBe(400);
  });

  it('GET /tools serves every tool with JSON Schemas', async () => {
    const t = await newTenant();
    const { items } = await json<{ items: { id: string; args_schema: { properties: Record<string, unknown> }; mutating: boolean; risk: string }[] }>(api('/tools', { key: t.keys.viewer }));
    const ids = items.map((i) => i.id);
    for (const id of ['github.revert_pull_request', 'jira.create_issue', 'pagerduty.list_oncalls', 'k8s.drain_node', 'core.wait', 'core.http_check']) expect(ids).toContain(id);
    const drain = items.find((i) => i.id === 'k8s.drain_node')!;
    expect(Object.keys(drain.args_schema.properties)).toEqual(expect.arrayContaining(['cluster', 'node']));
    expect(drain).toMatchObject({ mutating: true, risk: 'high' });
  });

  it('POST /tools/plan returns the decision and the operations, executing nothing', async () => {
    const t = await newTenant();
    const res = await api('/tools/plan', { method: 'POST', key: t.keys.operator, json: { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'n1' }, context: { environment: 'prod' } } });
    expect(res.status).toBe(200);
    const d = await json<{ effect: string; reasons: { kind: string; name: string }[]; operations: unknown[] }>(res);
    expect(d.effect).toBe('deny');
    expect(d.reasons).toContainEqual(expect.objectContaining({ kind: 'role', name: 'operator' }));
    const sre = await json<{ effect: string; reasons: { name: string }[] }>(
      api('/tools/plan', { method: 'POST', key: t.keys.sre, json: { tool: 'k8s.drain_node', args: { cluster: 'prod-eu', node: 'n1' }, context: { environment: 'prod' } } }),
    );
    expect(sre.effect).toBe('require_approval');
    expect(sre.reasons.map((r) => r.name)).toContain('prod-writes-need-approval');
    const bad = await api('/tools/plan', { method: 'POST', key: t.keys.sre, json: { tool: 'k8s.drain_node', args: { cluster: 'prod-eu' } } });
    expect(bad.status).toBe(400);
    expect((await json<{ error: { details: { path: string }[] } }>(bad)).error.details[0]!.path).toBe('args.node');
  });
});
