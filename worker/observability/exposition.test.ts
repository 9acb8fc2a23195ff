import { describe, expect, it } from 'vitest';
import { histogramSeries, render } from './exposition';

describe('Prometheus text exposition', () => {
  it('writes HELP and TYPE once per family, then its series, escaping label values', () => {
    const text = render([
      { name: 'x_total', help: 'Things\nand more', type: 'counter', series: [{ labels: { tenant: 'a"b\\c\nd' }, value: 3 }] },
      { name: 'y', help: 'Y', type: 'gauge', series: [{ labels: {}, value: 0.5 }, { labels: { k: 'v' }, value: Infinity }] },
    ]);
    expect(text).toBe(['# HELP x_total Things\\nand more', '# TYPE x_total counter', 'x_total{tenant="a\\"b\\\\c\\nd"} 3', '# HELP y Y', '# TYPE y gauge', 'y 0.5', 'y{k="v"} +Inf', ''].join('\n'));
  });

  it('renders a histogram as cumulative buckets ending in +Inf, then sum and count', () => {
    const series = histogramSeries({ tool: 't' }, [0.1, 1], [2, 5], 7, 9.5);
    expect(render([{ name: 'h_seconds', help: 'H', type: 'histogram', series }]).split('\n').slice(2, -1)).toEqual([
      'h_seconds_bucket{tool="t",le="0.1"} 2',
      'h_seconds_bucket{tool="t",le="1"} 5',
      'h_seconds_bucket{tool="t",le="+Inf"} 7',
      'h_seconds_sum{tool="t"} 9.5',
      'h_seconds_count{tool="t"} 7',
    ]);
  });
});
