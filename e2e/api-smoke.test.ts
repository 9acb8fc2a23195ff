// The "Must show", over real HTTP against `wrangler dev` (started by global-setup.ts).
import WebSocket from 'ws';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient, createRunbook, getRun, pollUntil, secondPersonKey, startRun, uniqueName, waitForRun, type Api } from './helpers';

const { url, adminKey } = inject('e2e');
let api: Api;
/** Someone other than the admin who starts the runs: the only kind of person who may approve them. */
let approver: Api;

beforeAll(async () => {
  api = apiClient(url, adminKey);
  approver = apiClient(url, await secondPersonKey(url, adminKey));
});

/** A runbook of simulated tools that finishes in well under a second. */
function quickRunbook(name: string): string {
  return `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${name}
  description: e2e — two read/write steps, no approval
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: look
      tool: k8s.get_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Looked at \${{ inputs.node }}' }
`;
}

/** A runbook whose second step waits for a human. */
function approvalRunbook(name: string): string {
  return `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${name}
spec:
  steps:
    - id: look
      tool: k8s.get_node
      with: { cluster: prod-eu, node: node-a }
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-a }
      approval: required
    - id: ticket
      tool: jira.create_issue
      with: { project: OPS, summary: 'Cordoned node-a' }
`;
}

describe('API over HTTP (wrangler dev)', () => {
  it('answers /healthz without a key', async () => {
    const res = await apiClient(url)('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it('refuses the API without a key, with the documented error shape', async () => {
    const res = await apiClient(url)('GET', '/runbooks');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'unauthorized', message: expect.any(String) }, request_id: expect.any(String) });
  });

  it('accepts a runbook POSTed as raw YAML and runs it to succeeded', async () => {
    const name = uniqueName('e2e-quick');
    const res = await api('POST', '/runbooks', { yaml: quickRunbook(name) });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), name, version: 1 });

    const listed = await api('GET', '/runbooks');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r: { name: string }) => r.name)).toContain(name);

    const started = await api('POST', '/runs', { json: { runbook: name, inputs: { node: 'node-7' } } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ id: expect.any(String), status: expect.any(String) });

    const run = await waitForRun(api, started.body.id, ['succeeded']);
    expect(run.runbook).toBe(name);
    expect(run.mode).toBe('execute');
    expect(run.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ['look', 'succeeded', 1],
      ['ticket', 'succeeded', 1],
    ]);
    expect(run.steps[1]!.args).toMatchObject({ project: 'OPS', summary: 'Looked at node-7' });
  });

  it('holds a step with `approval: required` in awaiting_approval until it is approved', async () => {
    const { name } = await createRunbook(api, approvalRunbook(uniqueName('e2e-approval')));
    const id = await startRun(api, name);

    const waiting = await waitForRun(api, id, ['awaiting_approval']);
    expect(waiting.steps.map((s) => [s.id, s.status])).toEqual([
      ['look', 'succeeded'],
      ['cordon', 'awaiting_approval'],
      ['ticket', 'pending'],
    ]);
    // It really waits: a while later nothing has moved.
    await new Promise((r) => setTimeout(r, 1500));
    const still = await getRun(api, id);
    expect(still.status).toBe('awaiting_approval');
    expect(still.steps[1]!.status).toBe('awaiting_approval');

    // Not for the person who started the run; for someone else.
    expect((await api('GET', '/approvals')).body.items).not.toContainEqual(expect.objectContaining({ run_id: id }));
    expect((await api('POST', `/runs/${id}/steps/cordon/approve`, { json: {} })).status).toBe(403);
    const approvals = await approver('GET', '/approvals');
    expect(approvals.status).toBe(200);
    expect(approvals.body.items).toContainEqual(expect.objectContaining({ run_id: id, step_id: 'cordon', tool: 'k8s.cordon_node' }));

    const approved = await approver('POST', `/runs/${id}/steps/cordon/approve`, { json: {} });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: 'cordon' });

    // A second decision on a step that no longer waits is a conflict, not a second approval.
    const again = await approver('POST', `/runs/${id}/steps/cordon/approve`, { json: {} });
    expect(again.status).toBe(409);

    const done = await waitForRun(api, id, ['succeeded']);
    expect(done.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ['look', 'succeeded', 1],
      ['cordon', 'succeeded', 1],
      ['ticket', 'succeeded', 1],
    ]);
  });

  it('rejects an unknown tool with the path, the line and a "did you mean"', async () => {
    const name = uniqueName('e2e-typo');
    const yaml = `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${name}
spec:
  steps:
    - id: cordon
      tool: k8s.cordon_node
      with: { cluster: prod-eu, node: node-a }
    - id: drain
      tool: k8s.drian_node
      with: { cluster: prod-eu, node: node-a }
`;
    const expectedLine = yaml.split('\n').findIndex((l) => l.includes('k8s.drian_node')) + 1;
    expect(expectedLine).toBe(11);

    const res = await api('POST', '/runbooks', { yaml });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed' });
    expect(res.body.request_id).toEqual(expect.any(String));
    const details = res.body.error.details as { path: string; line: number; message: string }[];
    expect(details.length).toBeGreaterThanOrEqual(1);
    expect(details[0]).toMatchObject({ path: 'spec.steps[1].tool', line: expectedLine });
    expect(details[0]!.message).toContain('unknown tool "k8s.drian_node"');
    expect(details[0]!.message).toContain('did you mean "k8s.drain_node"');

    // Nothing was saved.
    const got = await api('GET', `/runbooks/${name}`);
    expect(got.status).toBe(404);
  });

  it('verifies the audit chain', async () => {
    // Make sure there is something to verify even when this test runs alone.
    await createRunbook(api, quickRunbook(uniqueName('e2e-audit')));
    const res = await api('GET', '/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.entries).toBeGreaterThan(0);
    expect(res.body.first_bad_seq ?? null).toBeNull();
  });

  it('serves the UI at / and for deep links (SPA fallback), but not for unknown API paths', async () => {
    for (const p of ['/', '/runs/xyz', '/runbooks/node-not-ready']) {
      const res = await fetch(`${url}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type'), p).toMatch(/text\/html/);
      const html = await res.text();
      expect(html, p).toContain('<title>AgentRunbook</title>');
      expect(html, p).toMatch(/<script|modulepreload/);
    }
    const api404 = await fetch(`${url}/api/v1/no-such-route`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(api404.status).toBe(404);
    expect(api404.headers.get('content-type')).toMatch(/application\/json/);
  });
});

// ─── Live WebSocket ─────────────────────────────────────────────────────────────────────────

type LiveMessage = { type: 'snapshot'; seq: number; run: { status: string; steps: { id: string; status: string }[] } } | { type: 'event'; seq: number; event: { type: string; seq: number; run: { status: string }; step?: { id: string; status: string } } };

/** Replayed messages whose `event` is not a run event (no `type`): described by their keys. */
function notEvents(messages: LiveMessage[]): string[] {
  return messages
    .filter((m) => m.type === 'event' && typeof (m.event as { type?: unknown }).type !== 'string')
    .map((m) => `seq ${m.seq}: { ${Object.keys((m as { event: object }).event).join(', ')} }`);
}

/** A WebSocket to /runs/{id}/live that records every message. */
async function openLive(id: string, after?: number) {
  const q = after === undefined ? '' : `?after=${after}`;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/runs/${id}/live${q}`, { headers: { authorization: `Bearer ${adminKey}` } });
  const messages: LiveMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as LiveMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`live socket refused: HTTP ${res.statusCode}`)));
  });
  return { ws, messages, close: () => ws.close() };
}

describe('live run WebSocket', () => {
  it('sends a snapshot, then each event in order; ?after=N replays what was missed', async () => {
    const { name } = await createRunbook(api, approvalRunbook(uniqueName('e2e-live')));
    const id = await startRun(api, name);
    await waitForRun(api, id, ['awaiting_approval']);

    // 1. A fresh connection: the snapshot comes first and shows the waiting step.
    const live = await openLive(id);
    const first = await pollUntil('the snapshot', async () => live.messages[0], (m) => m !== undefined, { timeoutMs: 10_000, intervalMs: 50 });
    expect(first?.type).toBe('snapshot');
    if (first?.type !== 'snapshot') throw new Error(`the first message is not a snapshot: ${JSON.stringify(first)}`);
    expect(first.run.status).toBe('awaiting_approval');
    expect(first.run.steps.find((s) => s.id === 'cordon')?.status).toBe('awaiting_approval');
    const snapshotSeq = first.seq;
    expect(snapshotSeq).toBeGreaterThan(0);

    // 2. Approve over plain HTTP; the socket reports every change until the run ends.
    const approved = await approver('POST', `/runs/${id}/steps/cordon/approve`, { json: { comment: 'e2e' } });
    expect(approved.status).toBe(200);
    await pollUntil(
      'the run.succeeded event',
      async () => live.messages,
      (ms) => ms.some((m) => m.type === 'event' && m.event.type === 'run.succeeded'),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    live.close();
    const events = live.messages.slice(1);
    expect(events.every((m) => m.type === 'event')).toBe(true);
    const seqs = events.map((m) => m.seq);
    // Contiguous, starting right after the snapshot: nothing lost, nothing twice.
    expect(seqs).toEqual(seqs.map((_, i) => snapshotSeq + 1 + i));
    const types = events.map((m) => (m.type === 'event' ? m.event.type : m.type));
    expect(types[0]).toBe('step.approved');
    expect(types).toContain('step.started');
    expect(types).toContain('step.succeeded');
    expect(types.at(-1)).toBe('run.succeeded');
    const lastSeq = seqs.at(-1)!;

    // 3. Reconnecting with ?after=N gets exactly the events after N.
    const resumed = await openLive(id, snapshotSeq);
    await pollUntil('the replayed events', async () => resumed.messages, (ms) => ms.some((m) => m.seq === lastSeq), { timeoutMs: 10_000, intervalMs: 50 });
    resumed.close();
    expect(resumed.messages.map((m) => m.type)).not.toContain('snapshot');
    expect(notEvents(resumed.messages), 'the ?after=N replay holds messages that are not run events').toEqual([]);
    expect(resumed.messages.map((m) => m.seq)).toEqual(seqs);
    expect(resumed.messages.map((m) => (m.type === 'event' ? m.event.type : ''))).toEqual(types);

    // 4. From the very beginning: the whole history, seq 1..last.
    const all = await openLive(id, 0);
    await pollUntil('the full history', async () => all.messages, (ms) => ms.some((m) => m.seq === lastSeq), { timeoutMs: 10_000, intervalMs: 50 });
    all.close();
    expect(notEvents(all.messages), 'the ?after=0 replay holds messages that are not run events').toEqual([]);
    expect(all.messages.map((m) => m.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(all.messages[0]!.type === 'event' && all.messages[0]!.event.type).toBe('run.created');
  });

  it('GET /runs/{id}/events (the polling alternative) returns exactly the events after N', async () => {
    const { name } = await createRunbook(api, quickRunbook(uniqueName('e2e-events')));
    const id = await startRun(api, name, { node: 'node-1' });
    await waitForRun(api, id, ['succeeded']);
    const all = await api('GET', `/runs/${id}/events`);
    expect(all.status).toBe(200);
    const items = all.body.items as { seq: number; type?: string }[];
    expect(items.filter((e) => typeof e.type !== 'string').map((e) => Object.keys(e).join(', ')), 'items that are not run events').toEqual([]);
    const seqs = items.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(items.at(-1)!.type).toBe('run.succeeded');

    const after = await api('GET', `/runs/${id}/events?after=3`);
    expect(after.status).toBe(200);
    expect((after.body.items as { seq: number }[]).map((e) => e.seq)).toEqual(seqs.slice(3));
  });

  it('refuses the live socket without credentials and for a run that does not exist', async () => {
    const anon = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/runs/run_nope/live`);
    const anonStatus = await new Promise<number>((resolve, reject) => {
      anon.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      anon.once('open', () => reject(new Error('an anonymous live socket was accepted')));
      anon.once('error', reject);
    });
    expect(anonStatus).toBe(401);

    const missing = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/runs/run_nope/live`, { headers: { authorization: `Bearer ${adminKey}` } });
    const missingStatus = await new Promise<number>((resolve, reject) => {
      missing.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      missing.once('open', () => reject(new Error('a live socket to a missing run was accepted')));
      missing.once('error', reject);
    });
    expect(missingStatus).toBe(404);
  });
});
