// Upstream faults (issue 10): what a run does when the vendor behind a live step answers 500 or
// 429, hangs past the step's timeout, or when a Kubernetes step's cluster has no relay connected.
// The live calls go through the real SDK (jira.js) to the fake Jira of test/fakes, reached by
// routing this isolate's outbound fetch for the fake's made-up origin (the run objects share the
// isolate); nothing leaves the process. Retries happen at two levels, and the tests pin both:
// the integration retries a retryable failure inside one attempt with the same idempotency key
// (worker/integrations/retry.ts, 3 tries), and the run engine makes a new attempt, with a new key,
// per the step's `retry` once that gives up. What the vendor sees marked on its objects is the
// step's own mark, the same for every attempt: a later attempt finds what an earlier one did.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDb } from '../worker/db/client';
import { toolCalls } from '../worker/db/schema';
import { IntegrationError } from '../worker/integrations/errors';
import { jiraCallLabel, keyDigest } from '../worker/integrations/markers';
import { LedgerInvoker, type LiveBackends, type ToolCall } from '../worker/runs/invoke';
import type { RunState, RunView } from '../worker/runs/types';
import { getTool } from '../worker/tools/catalog';
import { createJiraFake, type JiraFake } from './fakes/jira-server';
import { api, json, newTenant, type TestTenant } from './helpers';
import { createRunbook, driveUntil, getRun, startRun, stubFor, storedRun } from './run-helpers';

const ORIGIN = 'https://jira.fake';
const EMAIL = 'ops-bot@acme.test';
const API_TOKEN = 'jira-api-token-upstream-faults-0123';
const CREATE = '/rest/api/3/issue';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

interface Upstream {
  fake: JiraFake;
  /** Arrival time (ms) of every request the fake got, in order. */
  arrivals: { method: string; path: string; at: number }[];
  t: TestTenant;
}

/**
 * A tenant whose Jira integration is live against a fresh fake. `hang` requests never get an
 * answer: they end only when the caller aborts them (the step's timeout), as a stuck vendor would.
 */
async function liveJira(hang?: (req: Request) => boolean): Promise<Upstream> {
  const fake = createJiraFake({ email: EMAIL, apiToken: API_TOKEN });
  const arrivals: Upstream['arrivals'] = [];
  const original = globalThis.fetch;
  const routed: typeof fetch = (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== ORIGIN) return original(input, init);
    arrivals.push({ method: request.method, path: url.pathname, at: Date.now() });
    if (hang?.(request)) {
      return new Promise<Response>((_, reject) => {
        request.signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted', 'AbortError')));
      });
    }
    return fake.handler(request);
  };
  globalThis.fetch = routed;
  restore = () => {
    if (globalThis.fetch === routed) globalThis.fetch = original;
  };
  const t = await newTenant();
  const res = await api('/integrations/jira', { method: 'PUT', key: t.keys.admin, json: { mode: 'live', base_url: ORIGIN, credentials: { email: EMAIL, api_token: API_TOKEN } } });
  expect(res.status, await res.clone().text()).toBe(200);
  return { fake, arrivals, t };
}

let names = 0;
/** Saves a runbook with these steps (YAML, indented as list items under `steps:`); returns its name. */
async function runbook(t: TestTenant, steps: string): Promise<string> {
  const name = `upstream-${++names}`;
  await createRunbook(t.keys.sre, `apiVersion: agentrunbook/v1\nkind: Runbook\nmetadata: { name: ${name} }\nspec:\n  steps:\n${steps}`);
  return name;
}

async function runToEnd(t: TestTenant, name: string): Promise<RunView> {
  const id = await startRun(t.keys.sre, { runbook: name });
  return driveUntil(t.id, t.keys.sre, id, ['succeeded', 'failed', 'denied', 'cancelled']);
}

interface Event {
  type: string;
  ts: string;
  message?: string;
  step?: { id: string };
}
async function events(t: TestTenant, id: string): Promise<Event[]> {
  return (await json<{ items: Event[] }>(api(`/runs/${id}/events`, { key: t.keys.sre }))).items;
}

const creates = (u: Upstream) => u.arrivals.filter((a) => a.method === 'POST' && a.path === CREATE);
const issueLabels = (u: Upstream) => [...u.fake.issues.values()].map((i) => i.labels);
const callLabel = async (key: string) => jiraCallLabel(await keyDigest(key));
const steps = (run: RunView) => run.steps.map((s) => [s.id, s.status, s.attempts]);

const TICKET = `    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Checkout 5xx' }
`;

describe('a vendor that answers 500', () => {
  it('once: the integration retries in-call with the same key; one attempt, one issue', async () => {
    const u = await liveJira();
    u.fake.fail({ status: 500, method: 'POST', path: CREATE });
    const run = await runToEnd(u.t, await runbook(u.t, TICKET));
    expect(steps(run)).toEqual([['ticket', 'succeeded', 1]]);
    expect(creates(u)).toHaveLength(2);
    expect(issueLabels(u)).toEqual([[await callLabel(`${run.id}:ticket`)]]);
  });

  it('past the in-call retries, then success: the step retries per its `retry` (attempts = 2) and the issue is created once', async () => {
    const u = await liveJira();
    // The integration tries 3 times per attempt: all three fail, the engine's second attempt succeeds.
    u.fake.fail({ status: 500, method: 'POST', path: CREATE, times: 3 });
    const name = await runbook(u.t, `${TICKET}      retry: { attempts: 2, backoff: 1s }\n`);
    const run = await runToEnd(u.t, name);
    expect(run.status).toBe('succeeded');
    expect(steps(run)).toEqual([['ticket', 'succeeded', 2]]);
    // The mutating create reached the vendor's database once: the failed POSTs created nothing, and
    // the one issue carries the step's mark (the same for both attempts).
    expect(creates(u)).toHaveLength(4);
    expect(u.fake.issues.size).toBe(1);
    expect(issueLabels(u)).toEqual([[await callLabel(`${run.id}:ticket`)]]);
    expect(run.steps[0]!.result).toMatchObject({ key: 'OPS-1' });
    const evs = await events(u.t, run.id);
    const retrying = evs.filter((e) => e.type === 'step.retrying');
    expect(retrying).toHaveLength(1);
    expect(retrying[0]!.message).toMatch(/^Attempt 1 failed: Jira answered 500 to POST .*\/rest\/api\/3\/issue: scripted 500; retrying in 1000 ms$/);
    expect(evs.filter((e) => e.type === 'step.started')).toHaveLength(2);
    // The ledger holds one row per attempt, each under its own key.
    const ledger = await makeDb(env.DB).select({ key: toolCalls.idempotencyKey, error: toolCalls.error }).from(toolCalls).where(eq(toolCalls.runId, run.id));
    expect(ledger.map((l) => [l.key, l.error === null]).sort()).toEqual([
      [`${run.id}:ticket:1`, false],
      [`${run.id}:ticket:2`, true],
    ]);
  });

  it('after acting (the issue made, the answer lost) past the in-call retries: the next attempt finds the issue instead of opening a second', async () => {
    const u = await liveJira();
    // Attempt 1, in-call try 1 and 2: the search for the step's mark fails. Try 3: the search
    // finds nothing, the create goes through at the vendor, and the answer is a 502. Attempt 1 has
    // failed, though the issue exists. Attempt 2 searches for the same mark and finds it.
    u.fake.fail({ status: 500, method: 'GET', path: /\/search/, times: 2 });
    u.fake.fail({ status: 502, method: 'POST', path: CREATE, after: true });
    const run = await runToEnd(u.t, await runbook(u.t, `${TICKET}      retry: { attempts: 2, backoff: 1s }\n`));
    expect(run.status).toBe('succeeded');
    expect(steps(run)).toEqual([['ticket', 'succeeded', 2]]);
    expect(creates(u)).toHaveLength(1);
    expect(u.fake.issues.size).toBe(1);
    expect(issueLabels(u)).toEqual([[await callLabel(`${run.id}:ticket`)]]);
    expect(run.steps[0]!.result).toMatchObject({ key: 'OPS-1' });
    const retrying = (await events(u.t, run.id)).filter((e) => e.type === 'step.retrying');
    expect(retrying.map((e) => e.message)).toEqual([expect.stringMatching(/^Attempt 1 failed: Jira answered 502 to POST /)]);
  });

  it('for good, with on_failure: continue: the step fails naming the 500 and the run goes on', async () => {
    const u = await liveJira();
    u.fake.fail({ status: 500, method: 'POST', path: CREATE, times: 1_000 });
    const name = await runbook(
      u.t,
      `${TICKET}      on_failure: continue
    - id: health
      tool: core.http_check
      with: { url: 'https://shop.example.com/healthz' }
`,
    );
    const run = await runToEnd(u.t, name);
    expect(steps(run)).toEqual([
      ['ticket', 'failed', 1],
      ['health', 'succeeded', 1],
    ]);
    expect(run.steps[0]!.error).toMatch(/^Jira answered 500 to POST .*\/rest\/api\/3\/issue: scripted 500$/);
    // `continue` means the failure does not decide the run's outcome: it ends succeeded, and says
    // which step it passed over, in the run's reason (lists, dashboard) and its last event.
    expect(run.status).toBe('succeeded');
    expect(run.reason).toMatch(/^Succeeded with 1 failed step passed over \(on_failure: continue\): ticket failed \(Jira answered 500 to POST .*: scripted 500\)$/);
    const last = (await events(u.t, run.id)).at(-1)!;
    expect(last).toMatchObject({ type: 'run.succeeded', message: run.reason });
    const listed = await json<{ items: { id: string; reason: string | null }[] }>(api(`/runs?runbook=${name}`, { key: u.t.keys.sre }));
    expect(listed.items.find((r) => r.id === run.id)?.reason).toBe(run.reason);
    expect(creates(u)).toHaveLength(3);
    expect(u.fake.issues.size).toBe(0);
  });

  it('for good, with on_failure: abort: the run fails cleanly with the error named, later steps skipped, nothing undone', async () => {
    // (This tenant's runs are live: its Kubernetes calls would need a registered cluster, so the
    // change before the failing step is a PagerDuty note, simulated, and the step after it a health check.)
    const u = await liveJira();
    u.fake.fail({ status: 500, method: 'POST', path: CREATE, times: 1_000 });
    const name = await runbook(
      u.t,
      `    - id: note
      tool: pagerduty.add_note
      with: { incident_id: P1ABC, content: Mitigating }
${TICKET}      retry: { attempts: 2, backoff: 0s }
      on_failure: abort
    - id: node
      tool: core.http_check
      with: { url: 'https://shop.example.com/healthz' }
`,
    );
    const run = await runToEnd(u.t, name);
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/^Step ticket failed: Jira answered 500 to POST .*\/rest\/api\/3\/issue: scripted 500$/);
    expect(steps(run)).toEqual([
      ['note', 'succeeded', 1],
      ['ticket', 'failed', 2],
      ['node', 'skipped', 0],
    ]);
    expect(run.steps[0]!.compensation).toBeUndefined();
    // Two attempts, three in-call tries each.
    expect(creates(u)).toHaveLength(6);
    expect(u.fake.issues.size).toBe(0);
  });

  it('a 4xx is the vendor saying no: not retried, even with retries allowed', async () => {
    const u = await liveJira();
    u.fake.fail({ status: 400, method: 'POST', path: CREATE, body: { errorMessages: [], errors: { summary: 'Summary is too vague' } }, times: 1_000 });
    const run = await runToEnd(u.t, await runbook(u.t, `${TICKET}      retry: { attempts: 3, backoff: 0s }\n`));
    expect(run.status).toBe('failed');
    expect(steps(run)).toEqual([['ticket', 'failed', 1]]);
    expect(run.steps[0]!.error).toMatch(/^Jira answered 400 to POST .*: summary: Summary is too vague$/);
    expect(creates(u)).toHaveLength(1);
  });
});

describe('a vendor that answers 429 with Retry-After', () => {
  it('a short wait is honoured in-call: the create is retried after it, not failed early', async () => {
    const u = await liveJira();
    u.fake.fail({ status: 429, method: 'POST', path: CREATE, headers: { 'retry-after': '1' } });
    const run = await runToEnd(u.t, await runbook(u.t, TICKET));
    expect(run.status).toBe('succeeded');
    expect(steps(run)).toEqual([['ticket', 'succeeded', 1]]);
    const [first, second] = creates(u);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000);
    expect(u.fake.issues.size).toBe(1);
  });

  it('a wait longer than the integration holds a call: the engine schedules the next attempt no sooner than asked', async () => {
    const u = await liveJira();
    u.fake.fail({ status: 429, method: 'POST', path: CREATE, headers: { 'retry-after': '45' } });
    const id = await startRun(u.t.keys.sre, { runbook: await runbook(u.t, `${TICKET}      retry: { attempts: 2, backoff: 0s }\n`) });
    // Alarms fire by themselves here: wait (in real time) for the first attempt to give up.
    let retrying: Event | undefined;
    for (let i = 0; i < 200 && !retrying; i++) {
      retrying = (await events(u.t, id)).find((e) => e.type === 'step.retrying');
      if (!retrying) await new Promise((r) => setTimeout(r, 25));
    }
    expect(retrying?.message).toMatch(/^Attempt 1 failed: Jira answered 429 .*\(retry after 45s\); retrying in 45000 ms$/);
    const wakeAt = (await storedRun(stubFor(u.t.id, id)))!.steps[0]!.wake_at;
    expect(Date.parse(wakeAt!) - Date.parse(retrying!.ts)).toBeGreaterThanOrEqual(45_000);
    expect(creates(u)).toHaveLength(1);
    expect((await getRun(u.t.keys.sre, id)).status).toBe('running');
    // Time passes (driveUntil moves the wake-up into the past): attempt 2 creates the issue.
    const run = await driveUntil(u.t.id, u.t.keys.sre, id, ['succeeded', 'failed']);
    expect(steps(run)).toEqual([['ticket', 'succeeded', 2]]);
    expect(u.fake.issues.size).toBe(1);
  });
});

describe('a rate-limited failure replayed from the ledger', () => {
  it('keeps what is left of the Retry-After, so the attempt after a crash still waits for it', async () => {
    const t = await newTenant();
    let vendorCalls = 0;
    const live: LiveBackends = {
      executorFor: async () => ({
        secrets: [],
        call: async () => {
          vendorCalls++;
          throw new IntegrationError('jira', 'rate_limited', 'Jira answered 429 Too Many Requests (retry after 45s)', { status: 429, retryAfterMs: 45_000 });
        },
      }),
    };
    const invoker = new LedgerInvoker(makeDb(env.DB), undefined, live);
    const call = (): ToolCall => ({
      tool: getTool('jira.create_issue')!,
      args: { project: 'OPS', summary: 'Checkout 5xx' },
      idempotencyKey: `run_ledger_${t.id}:ticket:1`,
      tenantId: t.id,
      runId: `run_ledger_${t.id}`,
      stepId: 'ticket',
      mode: 'live',
      world: {},
    });
    const first = await invoker.invoke({ ...call(), fresh: true });
    expect(first).toMatchObject({ ok: false, retryable: true, replayed: false, retryAfterMs: 45_000 });
    // The run's object died before it stored the outcome; its next delivery of the same attempt
    // is answered by the ledger, not the vendor, and still says how long to wait.
    const again = await invoker.invoke(call());
    expect(vendorCalls).toBe(1);
    expect(again).toMatchObject({ ok: false, retryable: true, replayed: true, mode: 'live' });
    const wait = (again as { retryAfterMs?: number }).retryAfterMs;
    expect(wait).toBeGreaterThan(40_000);
    expect(wait).toBeLessThanOrEqual(45_000);
  });
});

describe('a vendor call that hangs past the step timeout', () => {
  it('fails the step with a timeout error and, with on_failure: compensate, undoes the earlier changes newest first', async () => {
    // The duplicate check before the create (a search) never answers.
    const u = await liveJira((req) => new URL(req.url).pathname === '/rest/api/3/search/jql');
    const existing = u.fake.addIssue('OPS', 'Checkout latency');
    const other = u.fake.addIssue('OPS', 'Cart errors');
    const name = await runbook(
      u.t,
      `    - id: start
      tool: jira.transition_issue
      with: { key: ${existing.key}, transition: Start Progress }
    - id: cordon
      tool: jira.transition_issue
      with: { key: ${other.key}, transition: Start Progress }
${TICKET}      timeout: 1s
      on_failure: compensate
`,
    );
    const run = await runToEnd(u.t, name);
    expect(run.status).toBe('failed');
    expect(run.reason).toBe('Step ticket failed: timed out after 1000 ms');
    expect(steps(run)).toEqual([
      ['start', 'compensated', 1],
      ['cordon', 'compensated', 1],
      ['ticket', 'failed', 1],
    ]);
    const ticket = run.steps[2]!;
    const took = Date.parse(ticket.ended_at!) - Date.parse(ticket.started_at!);
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThan(5_000);
    expect(run.steps[0]!.compensation).toMatchObject({ tool: 'jira.transition_issue', args: { key: existing.key, transition: 'To Do' }, status: 'succeeded' });
    expect(run.steps[1]!.compensation).toMatchObject({ tool: 'jira.transition_issue', args: { key: other.key, transition: 'To Do' }, status: 'succeeded' });
    // Reverse order: the cordon (done last) is undone first.
    const undone = (await events(u.t, run.id)).filter((e) => e.type === 'step.compensated').map((e) => e.step?.id);
    expect(undone).toEqual(['cordon', 'start']);
    // The vendor's issue is back where it was; nothing was created.
    expect(u.fake.issues.get(existing.key)!.status).toBe('To Do');
    expect(u.fake.issues.get(other.key)!.status).toBe('To Do');
    expect(u.fake.issues.size).toBe(2);
    expect(creates(u)).toHaveLength(0);
  });
});

describe('a Kubernetes step whose cluster has no relay connected (a dropped relay)', () => {
  it('waits and retries within its timeout, then fails saying no relay is connected', async () => {
    const t = await newTenant();
    const cluster = `edge-${Math.random().toString(36).slice(2, 8)}`;
    // A dev cluster: one nobody labelled would be treated as production and wait for an approval.
    const reg = await api('/clusters', { method: 'POST', key: t.keys.admin, json: { name: cluster, labels: { environment: 'dev' } } });
    expect(reg.status, await reg.clone().text()).toBe(201);
    const name = await runbook(
      t,
      `    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: ${cluster}, node: node-7 }
      timeout: 3s
      retry: { attempts: 3, backoff: 0s }
`,
    );
    const run = await runToEnd(t, name);
    expect(run.status).toBe('failed');
    expect(run.integration_mode).toBe('live');
    const step = run.steps[0]!;
    expect(step.status).toBe('failed');
    // The cause, not only "timed out": either the last attempt's own answer, or (when the time ran
    // out between attempts) the timeout with that answer.
    expect(step.error).toMatch(new RegExp(`^(Step timed out after 3000 ms; the last attempt failed: )?relay for cluster "${cluster}" is not connected \\(no relay has connected yet\\)$`));
    expect(run.reason).toBe(`Step cordon failed: ${step.error}`);
    // It waited for a relay for (nearly) the whole timeout, then retried within what was left.
    expect(step.attempts).toBeGreaterThanOrEqual(2);
    const took = Date.parse(step.ended_at!) - Date.parse(step.started_at!);
    expect(took).toBeGreaterThanOrEqual(2_500);
    expect(took).toBeLessThan(6_000);
    const retrying = (await events(t, run.id)).filter((e) => e.type === 'step.retrying').map((e) => e.message);
    expect(retrying).toHaveLength(step.attempts - 1);
    for (const message of retrying) expect(message).toContain(`relay for cluster "${cluster}" is not connected`);
    // Nothing is left waiting at the hub for a relay that may connect later.
    const status = await json<{ connected: boolean; pending_requests: number }>(api(`/clusters/${cluster}`, { key: t.keys.viewer }));
    expect(status).toMatchObject({ connected: false, pending_requests: 0 });
  });
});
