import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE_MS, MAX_RELAY_CALL_MS, deadlineFor, toolErrorOf } from './errors';
import { EMPTY_META, RecentKeys, expired, statusOf, type PendingRequest } from './relay-state';

describe('toolErrorOf', () => {
  it("names the cluster, the action and the code of a relay's refusal, with what to do", () => {
    const err = toolErrorOf('prod-eu', 'k8s.drain_node', {
      code: 'action_not_allowed',
      message: 'k8s.drain_node is not allowed by this relay (ALLOWED_ACTIONS: k8s.get_node)',
      retryable: false,
      origin: 'relay',
    });
    expect(err.message).toBe(
      'relay for cluster "prod-eu" refused k8s.drain_node: k8s.drain_node is not allowed by this relay (ALLOWED_ACTIONS: k8s.get_node) (action_not_allowed); widen the relay\'s ALLOWED_ACTIONS if this action should run there',
    );
    expect(err).toMatchObject({ retryable: false, code: 'action_not_allowed' });
  });

  it("keeps the relay's retryability for failures of the cluster itself", () => {
    const err = toolErrorOf('prod-eu', 'k8s.drain_node', { code: 'pdb_blocked', message: 'PodDisruptionBudget payments/api allows no disruption', retryable: true, origin: 'relay' });
    expect(err.message).toBe('cluster "prod-eu": k8s.drain_node failed: PodDisruptionBudget payments/api allows no disruption (pdb_blocked)');
    expect(err.retryable).toBe(true);
  });

  it("passes the hub's own messages through (they already name the cluster)", () => {
    const err = toolErrorOf('prod-eu', 'k8s.get_node', { code: 'relay_not_connected', message: 'relay for cluster "prod-eu" is not connected (no relay has connected yet)', retryable: true, origin: 'hub' });
    expect(err.message).toBe('relay for cluster "prod-eu" is not connected (no relay has connected yet)');
  });
});

describe('deadlineFor', () => {
  const now = 1_000_000;
  it("uses the step's remaining timeout", () => {
    expect(deadlineFor(90_000, now)).toBe(now + 90_000);
    expect(deadlineFor(0, now)).toBe(now);
  });
  it('without one: the default', () => {
    expect(deadlineFor(undefined, now)).toBe(now + DEFAULT_DEADLINE_MS);
  });
  it("never lets a call outlive a run's alarm, however long the step's timeout", () => {
    expect(MAX_RELAY_CALL_MS).toBeLessThanOrEqual(10 * 60_000);
    expect(deadlineFor(60 * 60_000, now)).toBe(now + MAX_RELAY_CALL_MS);
    expect(deadlineFor(Number.MAX_SAFE_INTEGER, now)).toBe(now + MAX_RELAY_CALL_MS);
  });
});

describe('relay state', () => {
  const pending = (sentAt: number | null): PendingRequest => ({
    id: 'rq_1',
    key: 'run_1:drain:1',
    cluster: 'prod-eu',
    argsHash: 'h',
    request: { type: 'request', id: 'rq_1', idempotency_key: 'run_1:drain:1', action: 'k8s.drain_node', args: {}, deadline_ms: 1, signature: '0'.repeat(64) },
    tokenHash: 't',
    deadlineMs: 1,
    createdAt: 0,
    sentAt,
    sends: sentAt === null ? 0 : 1,
  });
  const meta = { ...EMPTY_META, connectedAt: Date.parse('2026-05-01T10:00:00Z'), lastClose: { code: 1006, reason: '' } };

  it('an unanswered request that never left says the relay is not connected, and since when', () => {
    expect(expired(pending(null), meta, Date.parse('2026-05-01T10:05:00Z'), false)).toEqual({
      ok: false,
      error: { code: 'relay_not_connected', message: 'relay for cluster "prod-eu" is not connected (last seen 2026-05-01T10:05:00.000Z, closed with 1006)', retryable: true, origin: 'hub' },
    });
  });

  it('a request the relay took and never answered says whether it is still connected', () => {
    const out = expired(pending(5), meta, null, true);
    expect(out).toMatchObject({ ok: false, error: { code: 'deadline_exceeded', retryable: true } });
    expect(!out.ok && out.error.message).toContain('the relay is connected but did not answer');
  });

  it("the status shows the relay's capabilities as the API declares them, without the protocol flags", () => {
    const hello = {
      type: 'hello' as const,
      protocol: 1,
      relay_version: '0.2.0',
      cluster: 'prod-eu',
      allowlist: { namespaces: '*' as const, actions: ['k8s.get_node'] },
      capabilities: { actions: ['k8s.get_node'], dry_run: true, max_log_lines: 1000, signed_requests: true, cancel: true, effect_key: true },
    };
    expect(statusOf({ ...EMPTY_META, hello }, { connected: true, lastSeenMs: null, pending: 0 }).capabilities).toEqual({
      actions: ['k8s.get_node'],
      dry_run: true,
      max_log_lines: 1000,
      signed_requests: true,
    });
  });

  it('a cancel that overtook its call is remembered once, for a while, and only so many of them', () => {
    const keys = new RecentKeys(1000, 2);
    keys.add('a', 0);
    expect(keys.take('a', 999)).toBe(true);
    expect(keys.take('a', 999)).toBe(false);
    keys.add('b', 0);
    expect(keys.take('b', 1000)).toBe(false);
    for (const k of ['c', 'd', 'e']) keys.add(k, 0);
    expect(['c', 'd', 'e'].map((k) => keys.take(k, 1))).toEqual([false, true, true]);
  });

  it('status before any relay connected', () => {
    expect(statusOf(EMPTY_META, { connected: false, lastSeenMs: null, pending: 0 })).toMatchObject({ connected: false, relay_version: null, health: null, api_server_reachable: null, last_seen_at: null });
  });
});
