import { describe, expect, it } from 'vitest';
import type { Decision } from '../policy/decide';
import { approvalsFor, approvalsNeeded, mayReview, reviewRefusal } from './approval-rules';
import type { StepState } from './types';

const decision: Decision = { effect: 'require_approval', reasons: [], approval: { roles: ['sre', 'admin'], count: 2, distinct_from_requester: true } };
const waiting = (over: Partial<StepState> = {}): StepState => ({ id: 's', idx: 0, tool: 'k8s.cordon_node', status: 'awaiting_approval', attempts: 0, approvals: [], decision, args_hash: 'h1', ...over });
const sre = { id: 'key_b', role: 'sre', canApprove: true };
const NOW = Date.parse('2026-12-08T00:00:00Z');
const A = { id: 'key_a' };

describe('approval rules', () => {
  it('an approver of the right role who is not the requester may review', () => {
    expect(reviewRefusal(waiting(), sre, A, NOW)).toBeUndefined();
  });

  it('the requester may not approve their own run under distinct_from_requester', () => {
    expect(reviewRefusal(waiting(), { ...sre, id: 'key_a' }, A, NOW)).toMatchObject({ code: 'forbidden', message: /other than the person who started/ });
  });

  it('a role the decision does not name, or one that may not approve, is refused', () => {
    expect(mayReview(decision, { id: 'x', role: 'operator', canApprove: true }, A)).toMatchObject({ code: 'forbidden', message: /needs sre, admin/ });
    expect(mayReview(decision, { ...sre, canApprove: false }, A)).toMatchObject({ code: 'forbidden' });
  });

  it('a step not waiting, an expired request, a second review of the same arguments are conflicts', () => {
    expect(reviewRefusal(waiting({ status: 'running' }), sre, A, NOW)).toMatchObject({ code: 'conflict', message: /is running/ });
    expect(reviewRefusal(waiting({ approval_expires_at: new Date(NOW - 1).toISOString() }), sre, A, NOW)).toMatchObject({ code: 'conflict', message: /expired/ });
    const again = waiting({ approvals: [{ actor: { type: 'api_key', id: 'key_b' }, role: 'sre', verdict: 'approve', at: '', args_hash: 'h1' }] });
    expect(reviewRefusal(again, sre, A, NOW)).toMatchObject({ code: 'conflict', message: /already reviewed/ });
    // An approval of earlier arguments does not stop a review of the new ones.
    expect(reviewRefusal({ ...again, args_hash: 'h2' }, sre, A, NOW)).toBeUndefined();
  });

  it('counts only approvals of the exact arguments against the quorum', () => {
    const approvals = [
      { actor: { type: 'api_key', id: 'a' }, role: 'sre', verdict: 'approve' as const, at: '', args_hash: 'h1' },
      { actor: { type: 'api_key', id: 'b' }, role: 'sre', verdict: 'approve' as const, at: '', args_hash: 'h0' },
      { actor: { type: 'api_key', id: 'c' }, role: 'sre', verdict: 'deny' as const, at: '', args_hash: 'h1' },
    ];
    expect(approvalsFor(approvals, 'h1')).toBe(1);
    expect(approvalsNeeded(decision)).toBe(2);
    expect(approvalsNeeded({ effect: 'allow', reasons: [] })).toBe(0);
  });

  it('compares persons: another credential of the requester is the requester', () => {
    const requester = { id: 'key_a', person: 'ann@example.com' };
    // Ann's second key, and her browser session, are Ann.
    expect(reviewRefusal(waiting(), { ...sre, id: 'key_a2', person: 'ann@example.com' }, requester, NOW)).toMatchObject({ code: 'forbidden', message: /other than the person/ });
    expect(reviewRefusal(waiting(), { ...sre, id: 'https://idp|ann', person: 'ann@example.com' }, requester, NOW)).toMatchObject({ code: 'forbidden' });
    // Bob may.
    expect(reviewRefusal(waiting(), { ...sre, id: 'key_b', person: 'bob@example.com' }, requester, NOW)).toBeUndefined();
    // A run from before persons were recorded: its credential still counts as its requester.
    expect(reviewRefusal(waiting(), { ...sre, id: 'key_a', person: 'key:key_a' }, { id: 'key_a' }, NOW)).toMatchObject({ code: 'forbidden' });
  });

  it('a quorum counts persons: a second credential of one approver neither reviews again nor counts twice', () => {
    const bob1 = { actor: { type: 'api_key', id: 'key_b1' }, person: 'bob@example.com', role: 'sre', verdict: 'approve' as const, at: '', args_hash: 'h1' };
    const step = waiting({ approvals: [bob1] });
    expect(reviewRefusal(step, { ...sre, id: 'key_b2', person: 'bob@example.com' }, A, NOW)).toMatchObject({ code: 'conflict', message: /already reviewed .*another credential/ });
    expect(reviewRefusal(step, { ...sre, id: 'key_c', person: 'cy@example.com' }, A, NOW)).toBeUndefined();
    // Two records of one person (as a store written before this rule could hold) count once.
    expect(approvalsFor([bob1, { ...bob1, actor: { type: 'user', id: 'https://idp|bob' } }], 'h1')).toBe(1);
    // An older approval without a person counts as its credential.
    expect(approvalsFor([bob1, { ...bob1, person: undefined, actor: { type: 'api_key', id: 'key_old' } }], 'h1')).toBe(2);
  });
});
