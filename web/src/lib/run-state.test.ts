import { describe, expect, it } from 'vitest';
import { applyEvent, isTerminal, withReviewedStep } from './run-state';
import type { Run, Step } from './types';

const step = (id: string, status: Step['status'] = 'pending'): Step => ({ id, tool: 'core.wait', status, args: {}, attempts: 0, approvals: [] });

const run: Run = {
  id: 'run_1',
  runbook: 'node-not-ready',
  runbook_version: 1,
  status: 'running',
  inputs: {},
  context: {},
  actor: { type: 'api_key', id: 'key_1' },
  mode: 'execute',
  created_at: '2026-01-01T00:00:00Z',
  cost_usd: 0,
  tokens: 0,
  steps: [step('cordon', 'running'), step('drain')],
};

describe('applyEvent', () => {
  it('merges the run fields and replaces the step with the same id, in place', () => {
    const next = applyEvent(run, {
      type: 'step.succeeded',
      ts: '2026-01-01T00:00:05Z',
      run: { status: 'running', cost_usd: 0.01, tokens: 120 },
      step: { ...step('cordon', 'succeeded'), attempts: 1, result: { ok: true } },
    });
    expect(next.cost_usd).toBe(0.01);
    expect(next.steps.map((s) => [s.id, s.status])).toEqual([
      ['cordon', 'succeeded'],
      ['drain', 'pending'],
    ]);
    expect(run.steps[0]?.status).toBe('running'); // the old run is left alone
  });

  it('appends a step the plan added', () => {
    const next = applyEvent(run, { type: 'step.added', ts: '', run: { status: 'running', cost_usd: 0, tokens: 0 }, step: step('get_node') });
    expect(next.steps.map((s) => s.id)).toEqual(['cordon', 'drain', 'get_node']);
  });

  it('ends the run without touching its steps', () => {
    const next = applyEvent(run, { type: 'run.cancelled', ts: '', run: { status: 'cancelled', cost_usd: 0, tokens: 0, ended_at: 'x', reason: 'by alice' } });
    expect([next.status, next.reason, next.steps]).toEqual(['cancelled', 'by alice', run.steps]);
  });
});

describe('isTerminal', () => {
  it('is true only for the four end states', () => {
    expect(['succeeded', 'failed', 'denied', 'cancelled'].every((s) => isTerminal(s as Run['status']))).toBe(true);
    expect(['queued', 'planning', 'running', 'awaiting_approval'].some((s) => isTerminal(s as Run['status']))).toBe(false);
  });
});

describe('withReviewedStep', () => {
  const waiting: Run = { ...run, status: 'awaiting_approval', steps: [step('cordon', 'succeeded'), step('drain', 'awaiting_approval')] };

  it('applies the answer of an approval while the step still waits', () => {
    const next = withReviewedStep(waiting, step('drain', 'pending'));
    expect(next.steps[1]?.status).toBe('pending');
  });

  it('keeps what the live socket already said when the answer arrives late', () => {
    const moved: Run = { ...waiting, status: 'succeeded', steps: [step('cordon', 'succeeded'), step('drain', 'succeeded')] };
    expect(withReviewedStep(moved, step('drain', 'pending')).steps[1]?.status).toBe('succeeded');
  });
});
