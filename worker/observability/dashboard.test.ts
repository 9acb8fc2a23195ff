import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES } from './metrics';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboard = JSON.parse(readFileSync(new URL('../../grafana/agentrunbook.json', import.meta.url), 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string }[] } };

describe('the Grafana dashboard', () => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('queries only metrics the Worker serves, with the suffixes their types have', () => {
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs) {
      const names = expr.match(/agentrunbook_[a-z_]+/g) ?? [];
      expect(names.length, panel).toBeGreaterThan(0);
      for (const name of names) {
        const family = Object.keys(METRIC_FAMILIES).find((f) => name === f || (METRIC_FAMILIES[f as keyof typeof METRIC_FAMILIES] === 'histogram' && /^(.*)_(bucket|sum|count)$/.exec(name)?.[1] === f));
        expect(family, `${panel}: ${name}`).toBeDefined();
      }
      // Counters are read through rate/increase, gauges never are.
      for (const m of expr.matchAll(/(rate|increase)\((agentrunbook_[a-z_]+)/g)) {
        const type = METRIC_FAMILIES[m[2]!.replace(/_(bucket|sum|count)$/, '') as keyof typeof METRIC_FAMILIES];
        expect(type === 'counter' || type === 'histogram', `${panel}: ${m[0]}`).toBe(true);
      }
      // Every tenant-labelled query follows the tenant filter (the scrape duration has no tenant).
      if (!expr.includes('agentrunbook_metrics_scrape_duration_seconds')) expect(expr, panel).toContain('$tenant');
    }
  });

  it('has the panels operators look for, a tenant filter and no overlapping tiles', () => {
    const titles = dashboard.panels.map((p) => p.title).join('\n');
    for (const t of ['Runs by status', 'Step latency', 'Approvals waiting', 'Policy denials', 'LLM cost', 'Tokens', 'Webhook deliveries', 'Audit entries']) expect(titles).toContain(t);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'tenant']);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });
});
