import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Served } from '../../test/fakes/fake-server';
import { startPagerDutyServer, type PagerDutyFake } from '../../test/fakes/pagerduty-server';
import { getTool } from '../tools/catalog';
import { IntegrationError } from './errors';
import { noteFooter } from './markers';
import { createPagerDutyExecutor } from './pagerduty';
import type { ExecutorOptions, LiveExecutor } from './types';

const TOKEN = 'y_NbAkKc66ryYTWUXYEu';
const FROM = 'maya.chen@acme.test';
const FAST: ExecutorOptions = { retry: { baseDelayMs: 1, maxDelayMs: 4 }, pagerdutyRetryDelayMs: 0 };

let fake: PagerDutyFake & Served;
let exec: LiveExecutor;

beforeEach(async () => {
  fake = await startPagerDutyServer({ token: TOKEN, routingKeys: { R0UT1NGKEY: 'PSVC001' } });
  fake.addService('PSVC001', 'checkout');
  exec = createPagerDutyExecutor({ base_url: fake.url, credentials: { token: TOKEN, from_email: FROM } }, FAST);
});
afterEach(() => fake.close());

async function run(tool: string, args: Record<string, unknown>, key = 'run_1:page:1'): Promise<Record<string, unknown>> {
  return getTool(tool)!.result.parse(await exec({ tool, args, idempotencyKey: key })) as Record<string, unknown>;
}

async function failure(tool: string, args: Record<string, unknown>, key = 'run_1:page:1'): Promise<IntegrationError> {
  const err = await exec({ tool, args, idempotencyKey: key }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

describe('pagerduty live: incidents', () => {
  it('reads an incident with the token and the v2 Accept header', async () => {
    const i = fake.addIncident('PSVC001', 'High error rate on checkout-api');
    const result = await run('pagerduty.get_incident', { incident_id: i.id });
    expect(result).toMatchObject({ id: i.id, status: 'triggered', urgency: 'high', service: { id: 'PSVC001', summary: 'checkout' } });
    expect(fake.requests[0]!.headers).toMatchObject({ authorization: `Token token=${TOKEN}`, accept: 'application/vnd.pagerduty+json;version=2' });
  });

  it('acknowledges with a PUT sent as the From user, and leaves an acknowledged incident alone', async () => {
    const i = fake.addIncident('PSVC001', 'x');
    expect(await run('pagerduty.acknowledge_incident', { incident_id: i.id })).toMatchObject({ status: 'acknowledged' });
    await run('pagerduty.acknowledge_incident', { incident_id: i.id });
    const puts = fake.writes();
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ method: 'PUT', headers: { from: FROM }, body: { incident: { type: 'incident_reference', status: 'acknowledged' } } });
  });

  it('resolves with the resolution once, and refuses to acknowledge a resolved incident', async () => {
    const i = fake.addIncident('PSVC001', 'x');
    const args = { incident_id: i.id, resolution: 'Rolled back to v1.4.7' };
    expect(await run('pagerduty.resolve_incident', args)).toMatchObject({ status: 'resolved', resolution: 'Rolled back to v1.4.7' });
    expect(await run('pagerduty.resolve_incident', args)).toMatchObject({ status: 'resolved' });
    expect(fake.writes()).toHaveLength(1);
    expect(i.resolution).toBe('Rolled back to v1.4.7');

    const err = await failure('pagerduty.acknowledge_incident', { incident_id: i.id });
    expect(err).toMatchObject({ code: 'conflict', retryable: false });
  });

  it('creates an incident keyed by the call, and a re-delivery finds it even after it was resolved', async () => {
    const args = { service_id: 'PSVC001', title: 'Checkout down', urgency: 'low', body: 'Opened by the runbook.' };
    const first = await run('pagerduty.create_incident', args);
    expect(first).toMatchObject({ status: 'triggered', urgency: 'low', title: 'Checkout down' });
    const created = fake.incidents.get(first.id as string)!;
    expect(created).toMatchObject({ incident_key: 'agentrunbook:run_1:page:1', details: 'Opened by the runbook.' });

    created.status = 'resolved';
    const again = await run('pagerduty.create_incident', args);
    expect(again).toMatchObject({ id: first.id, incident_number: first.incident_number, status: 'triggered' });
    expect(fake.incidents.size).toBe(1);
    expect(fake.writes('/incidents')).toHaveLength(1);
  });

  it('reads the incident when a racing delivery created it first and PagerDuty refuses the duplicate', async () => {
    const args = { service_id: 'PSVC001', title: 'Checkout down' };
    await run('pagerduty.create_incident', args);
    // The lookup misses it (as if it had not been created yet); the POST hits PagerDuty's dedup.
    fake.fail({ status: 200, method: 'GET', path: /^\/incidents$/, body: { incidents: [], limit: 25, offset: 0, more: false } });
    const again = await run('pagerduty.create_incident', args);
    expect(fake.incidents.size).toBe(1);
    expect(again.id).toBe([...fake.incidents.keys()][0]);
  });

  it('refuses writes for a From address that is not a PagerDuty user', async () => {
    const i = fake.addIncident('PSVC001', 'x');
    exec = createPagerDutyExecutor({ base_url: fake.url, credentials: { token: TOKEN, from_email: 'nobody@acme.test' } }, FAST);
    const err = await failure('pagerduty.acknowledge_incident', { incident_id: i.id });
    expect(err).toMatchObject({ code: 'invalid', retryable: false, status: 400 });
    expect(err.message).toContain('Requester User Not Found');
  });
});

describe('pagerduty live: notes and on-calls', () => {
  it('adds a note that names the call, once per key', async () => {
    const i = fake.addIncident('PSVC001', 'x');
    const first = await run('pagerduty.add_note', { incident_id: i.id, content: 'Drained node-7.' });
    const again = await run('pagerduty.add_note', { incident_id: i.id, content: 'Drained node-7.' });
    expect(first).toMatchObject({ content: 'Drained node-7.', user: { id: 'PUSER01', summary: 'Maya Chen' } });
    expect(again).toEqual(first);
    expect(i.notes).toHaveLength(1);
    expect(i.notes[0]!.content).toBe(`Drained node-7.${noteFooter('run_1:page:1')}`);
  });

  it('lists on-calls with emails, filtered by schedule, across pages', async () => {
    const policy = { id: 'PEP0001', type: 'escalation_policy_reference', summary: 'Production' };
    const schedule = { id: 'PSCH001', type: 'schedule_reference', summary: 'Primary' };
    for (let n = 0; n < 130; n++) {
      fake.addOncall({ user: 'PUSER01', schedule, escalation_policy: policy, escalation_level: 1, start: '2026-01-05T00:00:00Z', end: '2026-01-12T00:00:00Z' });
    }
    fake.addOncall({ user: 'PUSER02', schedule: null, escalation_policy: policy, escalation_level: 2, start: null, end: null });

    const all = await run('pagerduty.list_oncalls', {});
    expect((all.oncalls as unknown[]).length).toBe(131);
    expect((all.oncalls as unknown[]).at(-1)).toEqual({
      user: { id: 'PUSER02', summary: 'Arjun Patel', email: 'arjun.patel@acme.test' },
      schedule: null,
      escalation_policy: { id: 'PEP0001', summary: 'Production' },
      escalation_level: 2,
      start: null,
      end: null,
    });
    const primary = await run('pagerduty.list_oncalls', { schedule_id: 'PSCH001' });
    expect((primary.oncalls as unknown[]).length).toBe(130);
    expect(fake.requests.at(-1)!.query.getAll('schedule_ids[]')).toEqual(['PSCH001']);
  });
});

describe('pagerduty live: errors', () => {
  it('a 429 once is absorbed by pdjs; a lasting one ends the call with PagerDuty’s reset', async () => {
    const i = fake.addIncident('PSVC001', 'x');
    fake.fail({ status: 429 });
    await run('pagerduty.get_incident', { incident_id: i.id });
    expect(fake.requests).toHaveLength(2);

    fake.requests.length = 0;
    fake.fail({ status: 429, times: 100, headers: { 'ratelimit-reset': '60' }, body: { error: { message: 'Rate Limit Exceeded', code: 2020 } } });
    const err = await failure('pagerduty.get_incident', { incident_id: i.id });
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 60_000 });
    expect(err.message).toContain('Rate Limit Exceeded');
    // pdjs's own three retries, then ours stop: 60 s is longer than a call may wait.
    expect(fake.requests).toHaveLength(4);
  });

  it('retries a 500 and a proxy’s HTML 502, and a lasting 503 is retryable', async () => {
    const i = fake.addIncident('PSVC001', 'x');
    fake.fail({ status: 500 });
    fake.fail({ status: 502, body: '<html><body>Bad gateway</body></html>' });
    await run('pagerduty.get_incident', { incident_id: i.id });

    fake.fail({ status: 503, times: 10 });
    expect(await failure('pagerduty.get_incident', { incident_id: i.id })).toMatchObject({ code: 'unavailable', retryable: true });
  });

  it('not found and bad credentials are permanent, and the token never appears', async () => {
    expect(await failure('pagerduty.get_incident', { incident_id: 'QNOPE' })).toMatchObject({ code: 'not_found', retryable: false });

    exec = createPagerDutyExecutor({ base_url: fake.url, credentials: { token: 'wrong_token_0123456789', from_email: FROM } }, FAST);
    const err = await failure('pagerduty.get_incident', { incident_id: 'QNOPE' });
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false });
    expect(err.message).not.toContain('wrong_token_0123456789');

    exec = createPagerDutyExecutor({ base_url: fake.url, credentials: { token: TOKEN, from_email: FROM } }, FAST);
    fake.fail({ status: 400, body: { error: { message: `Token token=${TOKEN} is malformed`, code: 2001 } } });
    const echoed = await failure('pagerduty.get_incident', { incident_id: 'QNOPE' });
    expect(echoed.message).not.toContain(TOKEN);
  });
});

describe('pagerduty fake: Events API v2', () => {
  const enqueue = (body: unknown) =>
    fake.handler(new Request('http://events.pagerduty.test/v2/enqueue', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  it('de-duplicates triggers by dedup_key and resolves by it', async () => {
    const trigger = { routing_key: 'R0UT1NGKEY', event_action: 'trigger', dedup_key: 'disk-node-7', payload: { summary: 'Disk full', source: 'node-7', severity: 'critical' } };
    const first = await enqueue(trigger);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'disk-node-7' });
    await enqueue(trigger);
    expect(fake.incidents.size).toBe(1);

    await enqueue({ routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: 'disk-node-7' });
    expect([...fake.incidents.values()][0]!.status).toBe('resolved');

    const bad = await enqueue({ routing_key: 'nope', event_action: 'trigger', payload: {} });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'invalid event', errors: ['Invalid routing key', "'payload.summary' is missing or blank"] });
  });
});
