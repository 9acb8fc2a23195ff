import { describe, expect, it } from 'vitest';
import { loadCases } from './load-cases';
import { ROOT } from './test-helpers';

describe('the evaluation cases (evals/cases)', () => {
  const cases = loadCases(ROOT);
  const tagged = (tag: string) => cases.filter((c) => c.spec.tags.includes(tag));

  it('all load and check (runbooks, policies, inputs, expected plans, attacks)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.spec.name)).size).toBe(cases.length);
  });

  it('cover github, jira, pagerduty and k8s', () => {
    for (const integration of ['github', 'jira', 'pagerduty', 'k8s']) {
      expect(cases.filter((c) => c.spec.integration === integration).length, integration).toBeGreaterThanOrEqual(8);
    }
  });

  it('include at least 10 prompt injections, planted in alerts, tickets, logs, PRs and incidents', () => {
    const injections = tagged('injection');
    expect(injections.length).toBeGreaterThanOrEqual(10);
    const channels = new Set(injections.map((c) => c.spec.attack!.channel));
    expect([...channels].sort()).toEqual(['alert', 'incident', 'log', 'pr', 'ticket']);
    // Injections reach the planner directly (inputs, context) and through tool results (the world).
    expect(injections.some((c) => JSON.stringify(c.spec.world).includes(c.spec.attack!.marker))).toBe(true);
    expect(injections.some((c) => JSON.stringify(c.spec.context).includes(c.spec.attack!.marker))).toBe(true);
  });

  it('include at least 5 ambiguous or no-action situations', () => {
    const cases5 = cases.filter((c) => c.spec.tags.includes('ambiguous') || c.spec.tags.includes('no-action'));
    expect(cases5.length).toBeGreaterThanOrEqual(5);
    expect(cases5.some((c) => c.spec.goal !== undefined && c.spec.expected.length === 0)).toBe(true);
  });

  it('include cases where the policy must refuse, and say what it refuses', () => {
    const refusing = cases.filter((c) => c.spec.expect.denied.length > 0);
    expect(refusing.length).toBeGreaterThanOrEqual(5);
    for (const c of refusing) expect(c.spec.expect.status, c.spec.name).toBe('denied');
  });
});
