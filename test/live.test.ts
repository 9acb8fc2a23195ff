import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { BASE, api, newTenant } from './helpers';
import { createRunbook, driveUntil, startRun } from './run-helpers';

const RB = `apiVersion: agentrunbook/v1
kind: Runbook
metadata: { name: live-one }
spec:
  steps:
    - id: one
      tool: k8s.get_node
      with: { cluster: prod-eu, node: n1 }
    - id: two
      tool: jira.create_issue
      with: { project: OPS, summary: live }
      approval: required
`;

interface Msg {
  type: 'snapshot' | 'event';
  seq: number;
  run?: { status: string };
  event?: { type: string; step?: { id: string; status: string } };
}

async function connect(key: string, id: string, after?: number) {
  const res = await exports.default.fetch(
    new Request(`${BASE}/runs/${id}/live${after !== undefined ? `?after=${after}` : ''}`, {
      headers: { upgrade: 'websocket', authorization: `Bearer ${key}` },
    }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: Msg[] = [];
  ws.addEventListener('message', (e) => {
    messages.push(JSON.parse(e.data as string) as Msg);
  });
  ws.accept();
  return { ws, messages };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for messages');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('live view', () => {
  it('sends a snapshot, then sequenced events; ?after=N replays what was missed', async () => {
    const t = await newTenant();
    await createRunbook(t.keys.sre, RB);
    const id = await startRun(t.keys.sre, { runbook: 'live-one' });
    await driveUntil(t.id, t.keys.sre, id, ['awaiting_approval']);

    const live = await connect(t.keys.viewer, id);
    await until(() => live.messages.length >= 1);
    const snapshot = live.messages[0]!;
    expect(snapshot.type).toBe('snapshot');
    expect(snapshot.run!.status).toBe('awaiting_approval');

    await api(`/runs/${id}/steps/two/approve`, { method: 'POST', key: t.keys.admin, json: {} });
    await driveUntil(t.id, t.keys.sre, id, ['succeeded']);
    await until(() => live.messages.some((m) => m.event?.type === 'run.succeeded'));
    const events = live.messages.slice(1);
    expect(events.every((m) => m.type === 'event')).toBe(true);
    const seqs = events.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBe(snapshot.seq + 1);
    expect(events.map((m) => m.event!.type)).toEqual(expect.arrayContaining(['step.approved', 'step.started', 'step.succeeded', 'run.succeeded']));
    live.ws.close();

    // A client that saw up to the snapshot reconnects and gets exactly what it missed.
    const again = await connect(t.keys.viewer, id, snapshot.seq);
    await until(() => again.messages.some((m) => m.event?.type === 'run.succeeded'));
    expect(again.messages.map((m) => `${m.seq}:${m.type}:${m.event?.type}`).join(" ")).toEqual(events.map((m) => `${m.seq}:${m.type}:${m.event?.type}`).join(" "));
    again.ws.close();
  });

  it('refuses other tenants (404) and plain HTTP (400)', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await createRunbook(a.keys.sre, RB);
    const id = await startRun(a.keys.sre, { runbook: 'live-one' });
    const res = await exports.default.fetch(new Request(`${BASE}/runs/${id}/live`, { headers: { upgrade: 'websocket', authorization: `Bearer ${b.keys.admin}` } }));
    expect(res.status).toBe(404);
    expect((await api(`/runs/${id}/live`, { key: a.keys.admin })).status).toBe(400);
  });
});
