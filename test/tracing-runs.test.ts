import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditDO } from '../durable-objects/audit-do';
import { ClusterDO } from '../durable-objects/cluster-do';
import { RateLimiterDO } from '../durable-objects/rate-limiter-do';
import { RunDO } from '../durable-objects/run-do';
import type { Env } from '../worker/env';
import { formatRecord } from '../worker/observability/log';
import { runTraceContext } from '../worker/observability/tracing';
import { createGitHubFake } from './fakes/github-server';
import { FakeOpenAI, type ChatRequestBody, type OpenAIScript } from './fakes/openai-server';
import { api, newTenant, onUndo, setEnv, undoAll } from './helpers';
import { createRunbook, driveUntil, startRun, stubFor } from './run-helpers';

/*
 * Runs as traces, exported to an OTLP/HTTP collector. The endpoint is set on the Worker's env,
 * which the run objects of this file share (each test file has its own workerd), and the isolate's
 * outbound fetch for the collector's origin is routed to an in-test handler that keeps each
 * export body as sent; `afterEach` puts both back.
 */

const COLLECTOR = 'http://otel-collector.test';
const OPENAI = 'http://openai.fake.test';
const GITHUB = 'https://github.fake';
const OPENAI_KEY = 'sk-test-tracing-openai-key-0000000000';
const GITHUB_TOKEN = 'ghp_tracingtesttoken0123456789abcdef';
const MODEL = 'gpt-fake-1';

interface Attr {
  key: string;
  value: { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links?: { traceId: string; spanId: string }[];
  name: string;
  kind: number;
  attributes: Attr[];
  status: { code: number; message?: string };
}
interface ExportBody {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** Export bodies as the collector received them, raw. */
let bodies: string[] = [];

afterEach(() => {
  undoAll();
  bodies = [];
});

/** The collector, plus any fakes: their origins go to their handlers; no test reaches the internet. */
function routeFetch(routes: Record<string, (req: Request) => Promise<Response>> = {}): void {
  const original = globalThis.fetch;
  const all: Record<string, (req: Request) => Promise<Response>> = {
    ...routes,
    [COLLECTOR]: async (req) => {
      expect(new URL(req.url).pathname).toBe('/v1/traces');
      bodies.push(await req.text());
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    },
  };
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const handler = all[new URL(req.url).origin];
    return handler ? handler(req) : Promise.reject(new Error(`test: unexpected outbound request to ${req.url}`));
  }) as typeof fetch;
  onUndo(() => (globalThis.fetch = original));
}

/** Pinned either way: a developer's .dev.vars may name a collector of their own, or a sampling ratio. */
function traced(on = true): void {
  setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: on ? COLLECTOR : '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', OTEL_TRACES_SAMPLER_ARG: '1' });
}

/** Every span exported so far, once each export handed to waitUntil has reached the collector. */
async function exported(): Promise<OtlpSpan[]> {
  // Exports leave in the background (waitUntil); give those in flight a few turns to arrive.
  for (let i = 0, seen = -1; i < 20 && seen !== bodies.length; i++) {
    seen = bodies.length;
    await new Promise((r) => setTimeout(r, 10));
  }
  return bodies.flatMap((b) => (JSON.parse(b) as ExportBody).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
}

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
}

/** The spans of one run's trace, and how to find them by name and parent. */
function runTrace(spans: OtlpSpan[], runId: string) {
  const root = runTraceContext(runId);
  const mine = spans.filter((s) => s.traceId === root.traceId);
  const named = (name: string) => mine.filter((s) => s.name === name);
  const childrenOf = (parent: OtlpSpan) => mine.filter((s) => s.parentSpanId === parent.spanId);
  return { root, mine, named, childrenOf };
}

const CHECK = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: traced-check }
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: check
      tool: core.http_check
      with: { url: 'https://status.example.com/status/503' }
      retry: { attempts: 2, backoff: 1s }
      on_failure: compensate
`;

describe('a run as a trace', () => {
  it('exports the run root span, one span per step attempt with its tool calls beneath, and the planner call', async () => {
    traced();
    routeFetch();
    const t = await newTenant();
    await createRunbook(t.keys.sre, CHECK);
    const id = await startRun(t.keys.sre, { runbook: 'traced-check', inputs: { node: 'node-3' } });
    const run = await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    expect(run.status).toBe('failed');
    expect(run.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ['cordon', 'compensated', 1],
      ['check', 'failed', 2],
    ]);

    const { root, mine, named, childrenOf } = runTrace(await exported(), id);
    // The root: one span from creation to end, with the run's identity and outcome; a failed run is an error.
    const roots = mine.filter((s) => s.spanId === root.spanId);
    expect(roots).toHaveLength(1);
    const rootSpan = roots[0]!;
    expect(rootSpan).toMatchObject({ name: 'run traced-check', kind: 1, status: { code: 2, message: expect.stringContaining('Step check failed') } });
    expect(rootSpan.parentSpanId).toBeUndefined();
    expect(Object.fromEntries(rootSpan.attributes.map((a) => [a.key, attr(rootSpan, a.key)]))).toMatchObject({
      'agentrunbook.tenant': t.id,
      'agentrunbook.run_id': id,
      'agentrunbook.runbook': 'traced-check',
      'agentrunbook.run.mode': 'execute',
      'agentrunbook.run.status': 'failed',
      'agentrunbook.tokens': 0,
      'agentrunbook.cost_usd': 0,
    });

    // Every invocation of the run's object (its start, each alarm) is a child of the root.
    const invocations = mine.filter((s) => s.name.startsWith('run.'));
    expect(invocations.map((s) => s.name)).toContain('run.start');
    expect(invocations.filter((s) => s.name === 'run.alarm').length).toBeGreaterThanOrEqual(2);
    expect(invocations.every((s) => s.parentSpanId === root.spanId && attr(s, 'agentrunbook.run_id') === id)).toBe(true);
    // The trace is one tree: every span's parent is in it.
    const ids = new Set(mine.map((s) => s.spanId));
    expect(mine.filter((s) => s !== rootSpan && !ids.has(s.parentSpanId!)).map((s) => s.name)).toEqual([]);

    // One span per attempt at a step, under an alarm, with its outcome.
    const steps = mine.filter((s) => s.name.startsWith('step '));
    expect(steps.map((s) => [s.name, attr(s, 'agentrunbook.step.attempt'), attr(s, 'agentrunbook.step.status'), s.status.code])).toEqual([
      ['step cordon', 1, 'succeeded', 0],
      ['step check', 1, 'running', 2],
      ['step check', 2, 'failed', 2],
    ]);
    expect(steps[2]!.status.message).toContain('503');
    expect(steps.every((s) => invocations.some((i) => i.spanId === s.parentSpanId))).toBe(true);
    expect(attr(steps[0]!, 'agentrunbook.tool')).toBe('k8s.cordon_node');

    // Each attempt's tool call is a child of that attempt's span, with the attempt's idempotency key.
    const tools = steps.map((s) => childrenOf(s).map((c) => [c.name, attr(c, 'agentrunbook.idempotency_key'), attr(c, 'agentrunbook.integration_mode'), attr(c, 'agentrunbook.tool.replayed'), c.kind, c.status.code]));
    expect(tools).toEqual([
      [['tool k8s.cordon_node', `${id}:cordon:1`, 'simulated', false, 1, 0]],
      [['tool core.http_check', `${id}:check:1`, 'simulated', false, 1, 2]],
      [['tool core.http_check', `${id}:check:2`, 'simulated', false, 1, 2]],
    ]);
    // The undo of the cordon, under its own span.
    const [compensate] = named('compensate cordon');
    expect(childrenOf(compensate!).map((c) => [c.name, attr(c, 'agentrunbook.idempotency_key')])).toEqual([['tool k8s.uncordon_node', `${id}:cordon:compensate:1`]]);

    // The stub planner is an LLM call like any other: a client span with the GenAI attributes.
    const [planner, ...more] = named('llm planner');
    expect(more).toEqual([]);
    expect(planner).toMatchObject({ kind: 3, status: { code: 0 } });
    expect(invocations.some((i) => i.spanId === planner!.parentSpanId)).toBe(true);
    expect(['gen_ai.system', 'gen_ai.request.model', 'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'].map((k) => attr(planner!, k))).toEqual(['stub', 'stub', 0, 0]);

    // Arguments never travel: the node's name is an input and an argument, not an attribute.
    expect(bodies.join('\n')).not.toContain('node-3');

    // A flush repeated by a fresh instance of the object (after a crash, say) does not send the root again.
    bodies = [];
    await evictDurableObject(stubFor(t.id, id));
    await stubFor(t.id, id).kick();
    expect((await exported()).filter((s) => s.spanId === root.spanId)).toEqual([]);
  });

  it('with a real provider, the planner, toolcaller and reviewer are llm spans with their tokens and cost, under their step, and no prompt or key', async () => {
    traced();
    const fake = new FakeOpenAI(OPENAI_KEY).otherwise(triageModel);
    setEnv({ LLM_PROVIDER: 'openai', LLM_MODEL: MODEL, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${OPENAI}/v1`, LLM_MAX_RETRIES: '0', LLM_PRICES: JSON.stringify({ [MODEL]: { input: 2, output: 8 } }) });
    routeFetch({ [OPENAI]: fake.handler });
    const t = await newTenant();
    await createRunbook(t.keys.sre, TRIAGE);
    const id = await startRun(t.keys.sre, { runbook: 'triage-node', inputs: { node: 'node-9' } });
    const run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed']);
    expect(run.status, run.reason).toBe('succeeded');

    const { mine, named } = runTrace(await exported(), id);
    const llm = mine.filter((s) => s.name.startsWith('llm '));
    const stepOf = (s: OtlpSpan) => mine.find((p) => p.spanId === s.parentSpanId)!;
    expect(llm.map((s) => [s.name, attr(s, 'agentrunbook.step.id') ?? null, stepOf(s).name])).toEqual([
      ['llm planner', null, 'run.alarm'],
      ['llm reviewer', 'inspect', 'step inspect'],
      ['llm toolcaller', 'ticket', 'step ticket'],
      ['llm reviewer', 'ticket', 'step ticket'],
    ]);
    expect(fake.requests).toHaveLength(llm.length);
    for (const s of llm) {
      expect(s.kind).toBe(3);
      expect([attr(s, 'gen_ai.system'), attr(s, 'gen_ai.provider.name'), attr(s, 'gen_ai.request.model'), attr(s, 'gen_ai.response.model')]).toEqual(['openai', 'openai', MODEL, MODEL]);
      expect(attr(s, 'gen_ai.usage.input_tokens')).toBeGreaterThan(0);
    }
    // The spans count what the run was charged, call by call.
    const tokens = llm.reduce((n, s) => n + Number(attr(s, 'gen_ai.usage.input_tokens')) + Number(attr(s, 'gen_ai.usage.output_tokens')), 0);
    expect(tokens).toBe(run.tokens);
    expect(llm.reduce((n, s) => n + Number(attr(s, 'agentrunbook.cost_usd')), 0)).toBeCloseTo(run.cost_usd, 8);
    const [rootSpan] = named('run triage-node');
    expect([attr(rootSpan!, 'agentrunbook.tokens'), attr(rootSpan!, 'agentrunbook.run.status')]).toEqual([run.tokens, 'succeeded']);

    // Nothing of what was said: not the key, not the goal the prompts quote, not the filled arguments.
    const all = bodies.join('\n');
    expect(all).not.toContain(OPENAI_KEY);
    expect(all).not.toContain(GOAL);
    expect(all).not.toContain('Filed by the tracing test');
  });

  it('a live call is a client span; the integration credential never reaches the exporter, even when a runbook puts it in an argument', async () => {
    traced();
    const github = createGitHubFake({ token: GITHUB_TOKEN });
    github.repo('acme/checkout');
    routeFetch({ [GITHUB]: github.handler });
    const t = await newTenant();
    const put = await api('/integrations/github', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', base_url: GITHUB, credentials: { token: GITHUB_TOKEN } } });
    expect(put.status, await put.clone().text()).toBe(200);
    await createRunbook(t.keys.sre, CARELESS);
    const id = await startRun(t.keys.sre, { runbook: 'open-issue' });
    const run = await driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed', 'denied']);
    expect(run.status, JSON.stringify(run.steps.map((s) => [s.id, s.status, s.error]))).toBe('succeeded');

    const { named } = runTrace(await exported(), id);
    const [issue] = named('tool github.create_issue');
    const [ticket] = named('tool jira.create_issue');
    expect([issue!.kind, attr(issue!, 'agentrunbook.integration_mode'), attr(issue!, 'agentrunbook.idempotency_key')]).toEqual([3, 'live', `${id}:issue:1`]);
    expect([ticket!.kind, attr(ticket!, 'agentrunbook.integration_mode')]).toEqual([1, 'simulated']);
    expect(github.requests.length).toBeGreaterThan(0);
    expect(bodies.join('\n')).not.toContain(GITHUB_TOKEN);
  });

  it('the run links back to the request that started it: its root and run.start spans follow from the POST', async () => {
    traced();
    routeFetch();
    const t = await newTenant();
    await createRunbook(t.keys.sre, CHECK);
    // The caller's own trace, continued by the request span (W3C traceparent).
    const callerTrace = 'ab'.repeat(16);
    const res = await api('/runs', { method: 'POST', key: t.keys.sre, json: { runbook: 'traced-check', inputs: { node: 'node-4' } }, headers: { traceparent: `00-${callerTrace}-${'cd'.repeat(8)}-01` } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    const spans = await exported();
    const request = spans.find((s) => s.traceId === callerTrace && s.kind === 2);
    expect(request, 'the POST /runs server span, in the caller\'s trace').toBeDefined();
    const { root, named } = runTrace(spans, id);
    const link = [{ traceId: callerTrace, spanId: request!.spanId }];
    expect(named('run.start').map((s) => s.links)).toEqual([link]);
    expect(spans.find((s) => s.spanId === root.spanId)!.links).toEqual(link);
    // Later invocations (alarms) are not started by the request: no link.
    expect(named('run.alarm').every((s) => s.links === undefined)).toBe(true);
  });

  it('without an endpoint, a run exports nothing and runs as before', async () => {
    traced(false);
    routeFetch();
    const t = await newTenant();
    await createRunbook(t.keys.sre, CHECK);
    const id = await startRun(t.keys.sre, { runbook: 'traced-check', inputs: { node: 'node-4' } });
    const run = await driveUntil(t.id, t.keys.sre, id, ['failed', 'succeeded']);
    expect(run.status).toBe('failed');
    expect(await exported()).toEqual([]);
  });
});

describe('secrets in the logs of Durable Objects', () => {
  it("every object registers the deployment's secrets when it is constructed, so its own log lines are scrubbed", async () => {
    const classes = { RunDO, AuditDO, ClusterDO, RateLimiterDO };
    await runInDurableObject(env.LIMITER.get(env.LIMITER.newUniqueId()), async (_instance, state) => {
      for (const [name, Class] of Object.entries(classes)) {
        // An env of its own (another isolate's, as far as the registry knows) with a fresh secret.
        const secret = `session-secret-of-${name}-${crypto.randomUUID()}`;
        const own = Object.create(env, { SESSION_SECRET: { value: secret } }) as Env;
        expect(formatRecord('info', `leaked ${secret}`), name).toContain(secret);
        new Class(state, own);
        expect(formatRecord('info', `leaked ${secret}`), name).not.toContain(secret);
      }
    });
  });
});

const GOAL = 'Look at the node and file a ticket for the tracing test.';

const TRIAGE = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: triage-node }
spec:
  goal: ${GOAL}
  inputs:
    node: { type: string, required: true }
  steps:
    - id: inspect
      tool: k8s.get_node
      with: { cluster: staging, node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Node \${{ inputs.node }} looked at' }
`;

/** A model that keeps the runbook's plan, fills the ticket's open arguments and has no objection. */
function triageModel(body: ChatRequestBody): OpenAIScript {
  const schema = body.response_format?.json_schema?.name;
  const keep = (id: string, tool: string) => ({ id, tool, args_json: '{}', reason: `Runbook step ${id}`, from_runbook_step: id });
  if (schema === 'runbook_plan') return { json: { steps: [keep('inspect', 'k8s.get_node'), keep('ticket', 'jira.create_issue')] } };
  if (schema === 'review') return { json: { verdict: 'ok', reason: 'The call matches the goal' } };
  return { json: { project: 'OPS', summary: 'Node node-9 looked at', description: 'Filed by the tracing test.', issue_type: null, labels: ['agentrunbook'] } };
}

const CARELESS = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: open-issue }
spec:
  steps:
    - id: issue
      tool: github.create_issue
      with: { repo: acme/checkout, title: 'debug ${GITHUB_TOKEN}', labels: [incident] }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: still simulated }
`;
