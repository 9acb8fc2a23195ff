import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeTools, getTool, matchesToolPattern, toolIds, tools } from './catalog';

/** DESIGN §3's argument table: runbooks depend on these names, so they must not drift. */
const DESIGN_ARGS: Record<string, string[]> = {
  'github.create_issue': ['repo', 'title', 'body', 'labels'],
  'github.comment_issue': ['repo', 'number', 'body'],
  'github.close_issue': ['repo', 'number', 'comment'],
  'github.get_pull_request': ['repo', 'number'],
  'github.revert_pull_request': ['repo', 'number', 'title', 'body', 'draft'],
  'github.list_deployments': ['repo', 'environment'],
  'github.rollback_deployment': ['repo', 'environment', 'ref'],
  'jira.create_issue': ['project', 'summary', 'description', 'issue_type', 'labels'],
  'jira.get_issue': ['key'],
  'jira.transition_issue': ['key', 'transition'],
  'jira.add_comment': ['key', 'body'],
  'pagerduty.get_incident': ['incident_id'],
  'pagerduty.acknowledge_incident': ['incident_id'],
  'pagerduty.resolve_incident': ['incident_id', 'resolution'],
  'pagerduty.add_note': ['incident_id', 'content'],
  'pagerduty.create_incident': ['service_id', 'title', 'urgency', 'body'],
  'pagerduty.list_oncalls': ['schedule_id', 'escalation_policy_id'],
  'k8s.get_node': ['cluster', 'node'],
  'k8s.cordon_node': ['cluster', 'node'],
  'k8s.uncordon_node': ['cluster', 'node'],
  'k8s.drain_node': ['cluster', 'node', 'grace_period_seconds', 'timeout'],
  'k8s.get_deployment': ['cluster', 'namespace', 'name'],
  'k8s.restart_deployment': ['cluster', 'namespace', 'name'],
  'k8s.scale_deployment': ['cluster', 'namespace', 'name', 'replicas'],
  'k8s.rollback_deployment': ['cluster', 'namespace', 'name', 'revision'],
  'k8s.get_pod_logs': ['cluster', 'namespace', 'pod', 'container', 'tail_lines'],
  'core.wait': ['duration'],
  'core.http_check': ['url', 'expect_status'],
};

function argNames(id: string): string[] {
  const schema = getTool(id)?.args;
  if (!(schema instanceof z.ZodObject)) throw new Error(`${id} has no object argument schema`);
  return Object.keys(schema.shape).sort();
}

/** The paths and unknown keys a failed parse names, so a test can say which field was wrong. */
function failingFields(id: string, args: unknown): string[] {
  const parsed = getTool(id)!.args.safeParse(args);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.join('.')],
  );
}

describe('catalog', () => {
  it('has exactly the tools of DESIGN §3, each with the documented argument names', () => {
    expect(toolIds().sort()).toEqual(Object.keys(DESIGN_ARGS).sort());
    for (const [id, names] of Object.entries(DESIGN_ARGS)) {
      expect(argNames(id), id).toEqual([...names].sort());
    }
  });

  it('has unique ids and no tool without a description', () => {
    expect(new Set(toolIds()).size).toBe(tools.length);
    for (const tool of tools) expect(tool.description.length, tool.id).toBeGreaterThan(10);
  });

  it('names compensations that are themselves tools in the catalog', () => {
    for (const tool of tools) {
      if (tool.compensation) expect(getTool(tool.compensation.tool), tool.id).toBeDefined();
    }
  });

  it('reads are not mutating and are low risk', () => {
    for (const tool of tools.filter((t) => /\.(get|list)_/.test(t.id))) {
      expect(tool.mutating, tool.id).toBe(false);
      expect(tool.risk, tool.id).toBe('low');
    }
  });

  it('describes every tool with JSON Schemas for its arguments and result', () => {
    const descriptors = describeTools();
    expect(descriptors.map((d) => d.id)).toEqual(toolIds());
    for (const d of descriptors) {
      expect(d.namespace).toBe(d.id.split('.')[0]);
      expect(d.args_schema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(d.result_schema).toMatchObject({ type: 'object' });
    }
    expect(describeTools()).toBe(descriptors);
  });

  it('shows defaulted arguments as optional with their default', () => {
    const jira = describeTools().find((d) => d.id === 'jira.create_issue')!;
    expect(jira.args_schema.required).toEqual(['project', 'summary']);
    expect(jira.args_schema).toMatchObject({ properties: { issue_type: { default: 'Task' } } });
    const drain = describeTools().find((d) => d.id === 'k8s.drain_node')!;
    expect(drain.compensation).toBe('k8s.uncordon_node');
    expect(drain.risk).toBe('high');
  });
});

describe('argument validation', () => {
  it('rejects an unknown argument and names it', () => {
    expect(failingFields('k8s.cordon_node', { cluster: 'prod-eu', node: 'node-1', force: true })).toEqual(['force']);
  });

  it('rejects a missing required argument and names it', () => {
    expect(failingFields('github.create_issue', { repo: 'acme/api' })).toEqual(['title']);
  });

  it.each([
    ['github.create_issue', { repo: 'acme', title: 't' }, 'repo'],
    ['jira.get_issue', { key: 'ops-12' }, 'key'],
    ['core.wait', { duration: 'soon' }, 'duration'],
    ['core.wait', { duration: '25h' }, 'duration'],
    ['core.http_check', { url: 'ftp://example.com/' }, 'url'],
    ['core.http_check', { url: 'https://example.com/', expect_status: 42 }, 'expect_status'],
    ['pagerduty.create_incident', { service_id: 'PXPGF42', title: 't', urgency: 'urgent' }, 'urgency'],
    ['k8s.scale_deployment', { cluster: 'prod', namespace: 'web', name: 'api', replicas: -1 }, 'replicas'],
    ['k8s.drain_node', { cluster: 'prod', node: 'node-1', timeout: '2d' }, 'timeout'],
  ])('%s rejects %j naming %s', (id, args, field) => {
    expect(failingFields(id, args)).toEqual([field]);
  });

  it('fills documented defaults', () => {
    expect(getTool('jira.create_issue')!.args.parse({ project: 'OPS', summary: 's' })).toMatchObject({ issue_type: 'Task' });
    expect(getTool('core.http_check')!.args.parse({ url: 'https://example.com/' })).toMatchObject({ expect_status: 200 });
  });
});

describe('matchesToolPattern', () => {
  it.each([
    ['*', 'k8s.drain_node', true],
    ['k8s.*', 'k8s.drain_node', true],
    ['k8s.*', 'k8s', false],
    ['k8s.*', 'k8sx.get_node', false],
    ['k8s.get_*', 'k8s.get_node', true],
    ['k8s.get_*', 'k8s.drain_node', false],
    ['*.get_*', 'jira.get_issue', true],
    ['*_node', 'k8s.cordon_node', true],
    ['k8s.drain_node', 'k8s.drain_node', true],
    ['k8s.drain_node', 'k8s.drain_nodes', false],
    ['k8s.drain_*node', 'k8s.drain_node', true],
    ['k8s.?et_node', 'k8s.get_node', false],
    ['a*a', 'a', false],
  ])('%s matches %s: %s', (pattern, id, expected) => {
    expect(matchesToolPattern(pattern, id)).toBe(expected);
  });
});
