import { describe, expect, it } from 'vitest';
import { EVAL_BUDGET } from './budget';
import { evalCel, evalCondition } from './evaluate';

const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;
/** `L.all(a, L.all(b, … true))`: n^depth iterations from a few hundred characters. */
const nested = (n: number, depth: number) => Array.from({ length: depth }, (_, i) => `${list(n)}.all(v${i}, `).join('') + 'true' + ')'.repeat(depth);

describe('CEL evaluation budget', () => {
  it('stops an expression whose folds multiply past the budget, with an error that says so', () => {
    const expr = nested(30, 5); // 24.3 million iterations: seconds of work without a budget
    expect(expr.length).toBeLessThan(800);
    const t0 = performance.now();
    expect(() => evalCondition(expr, {})).toThrow(`expression is too costly: it needs more than ${EVAL_BUDGET} evaluation steps`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('lets every fold stop at once, however deep the nesting', () => {
    expect(() => evalCondition(nested(4, 12), {})).toThrow('too costly'); // 16.7 million
    expect(() => evalCel(`${list(30)}.map(a, ${list(30)}.map(b, ${list(30)}.map(c, ${list(30)}.map(d, d))))`, {})).toThrow('too costly');
  });

  it('evaluates ordinary expressions over long event lists as before', () => {
    const alerts = Array.from({ length: 20_000 }, (_, i) => ({ labels: { alertname: i === 19_999 ? 'KubeNodeNotReady' : 'Other', node: `n-${i}` } }));
    const event = { alerts };
    expect(evalCondition('event.alerts.exists(a, a.labels.alertname == "KubeNodeNotReady")', { event })).toBe(true);
    // map and filter build lists one element at a time: 20,000 appends, read back in full.
    expect(evalCel('event.alerts.map(a, a.labels.node)[19999]', { event })).toBe('n-19999');
    expect(evalCel('event.alerts.filter(a, a.labels.alertname == "Other").size()', { event })).toBe(19_999);
    expect(evalCel('event.alerts.map(a, a.labels.node).exists(n, n == "n-5")', { event })).toBe(true);
    expect(evalCel(`${list(30)}.map(a, ${list(30)}.map(b, a * b))[29][29]`, {})).toBe(841);
    expect(evalCondition(nested(30, 3), {})).toBe(true); // 27,000 iterations
  });
});
