import { canonicalJson } from '../../worker/lib/crypto';
import { getTool } from '../../worker/tools/catalog';
import { memoryWorld } from '../../worker/tools/sim';
import type { SimWorld, ToolCallContext } from '../../worker/tools/types';
import type { World } from './case-schema';

/**
 * Builds a run's simulated world from a case's `world`. Each entity starts as the simulation
 * generates it and takes the fields the case sets. The world keys are the simulated tools' own;
 * every entity is read back through its tool afterwards, so a change in the tools' layout fails
 * here, loudly, instead of silently running the case against a world without its fixtures.
 */

type Obj = Record<string, unknown>;

function ctx(world: SimWorld): ToolCallContext {
  return { tenantId: 'eval', runId: 'eval-world', stepId: 'seed', idempotencyKey: 'eval-world:seed:1', mode: 'simulated', world };
}

async function read(toolId: string, args: Obj, world: SimWorld = memoryWorld()): Promise<Obj> {
  const tool = getTool(toolId);
  if (!tool) throw new Error(`world: the catalog has no ${toolId}`);
  return tool.result.parse(await tool.simulate(tool.args.parse(args), ctx(world))) as Obj;
}

function defined<T extends Obj>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface Seed {
  key: string;
  value: unknown;
  /** Reads the entity back and says what is missing, if anything. */
  check(world: SimWorld): Promise<string | undefined>;
}

function expectFields(what: string, got: Obj, want: Obj): string | undefined {
  for (const [k, v] of Object.entries(want)) {
    if (canonicalJson(got[k]) !== canonicalJson(v)) return `${what}: ${k} reads back as ${JSON.stringify(got[k])}, not ${JSON.stringify(v)}`;
  }
  return undefined;
}

async function seeds(w: World): Promise<Seed[]> {
  const out: Seed[] = [];
  for (const pr of w.pull_requests ?? []) {
    const base = await read('github.get_pull_request', { repo: pr.repo, number: pr.number });
    const set = defined({ title: pr.title, state: pr.state, merged: pr.merged, draft: pr.draft });
    const value = { ...base, ...set, ...(pr.merged === false && { merged_at: null, merge_commit_sha: null }) };
    out.push({ key: `github:pull:${pr.repo}#${pr.number}`, value, check: async (world) => expectFields(`pull request ${pr.repo}#${pr.number}`, await read('github.get_pull_request', { repo: pr.repo, number: pr.number }, world), set) });
  }
  for (const inc of w.incidents ?? []) {
    const base = await read('pagerduty.get_incident', { incident_id: inc.id });
    const set = defined({ title: inc.title, status: inc.status, urgency: inc.urgency });
    const service = inc.service !== undefined ? { service: { ...(base.service as Obj), summary: inc.service } } : {};
    out.push({ key: `pagerduty:incident:${inc.id}`, value: { ...base, ...set, ...service }, check: async (world) => expectFields(`incident ${inc.id}`, await read('pagerduty.get_incident', { incident_id: inc.id }, world), { ...set, ...service }) });
  }
  for (const issue of w.issues ?? []) {
    const base = await read('jira.get_issue', { key: issue.key });
    const fields = base.fields as { summary: string; status: { name: string }; issuetype: { name: string }; labels: string[]; created: string };
    const value = {
      id: base.id,
      summary: issue.summary ?? fields.summary,
      status: issue.status ?? fields.status.name,
      issue_type: issue.issue_type ?? fields.issuetype.name,
      labels: fields.labels,
      created: fields.created,
    };
    out.push({
      key: `jira:issue:${issue.key}`,
      value,
      check: async (world) => {
        const got = (await read('jira.get_issue', { key: issue.key }, world)).fields as typeof fields;
        return expectFields(`issue ${issue.key}`, { summary: got.summary, status: got.status.name, issue_type: got.issuetype.name }, { summary: value.summary, status: value.status, issue_type: value.issue_type });
      },
    });
  }
  for (const d of w.deployments ?? []) {
    const ref = { cluster: d.cluster, namespace: d.namespace, name: d.name };
    out.push({
      key: `deployment:${d.cluster}/${d.namespace}/${d.name}`,
      value: { replicas: d.replicas, revision: d.revision, images: {}, restarted_at: null },
      check: async (world) => expectFields(`deployment ${d.namespace}/${d.name}`, await read('k8s.get_deployment', ref, world), { replicas: d.replicas, revision: d.revision }),
    });
  }
  for (const n of w.nodes ?? []) {
    out.push({
      key: `node:${n.cluster}/${n.node}`,
      value: { unschedulable: n.unschedulable, drained: n.drained },
      check: async (world) => expectFields(`node ${n.node}`, await read('k8s.get_node', { cluster: n.cluster, node: n.node }, world), { unschedulable: n.unschedulable }),
    });
  }
  return out;
}

/** The initial `RunState.world` of a case's runs. */
export async function buildWorld(w: World): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {};
  const all = await seeds(w);
  for (const s of all) state[s.key] = s.value;
  const view: SimWorld = { get: <T>(k: string) => structuredClone(state[k]) as T | undefined, set: () => undefined };
  for (const s of all) {
    const problem = await s.check(view);
    if (problem) throw new Error(`world fixture not applied (${problem}); did the simulated tools change how they keep their state?`);
  }
  return state;
}
