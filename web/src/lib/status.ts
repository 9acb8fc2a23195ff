import type { AnalyticsReport, RunStatus } from './types';

export const RUN_STATUSES: RunStatus[] = ['queued', 'planning', 'running', 'awaiting_approval', 'succeeded', 'failed', 'denied', 'cancelled'];

type StatusCounts = AnalyticsReport['runs']['by_status'];

/**
 * The run statuses as chart series: terminal outcomes apart, the in-flight states together (a
 * chart with eight shades tells less than one with six distinct ones).
 */
export const STATUS_SERIES: { label: string; color: string; statuses: (keyof StatusCounts)[] }[] = [
  { label: 'succeeded', color: 'var(--ok)', statuses: ['succeeded'] },
  { label: 'failed', color: 'var(--bad)', statuses: ['failed'] },
  { label: 'denied', color: 'var(--sim)', statuses: ['denied'] },
  { label: 'cancelled', color: 'var(--muted)', statuses: ['cancelled'] },
  { label: 'awaiting approval', color: 'var(--warn)', statuses: ['awaiting_approval'] },
  { label: 'in progress', color: 'var(--info)', statuses: ['queued', 'planning', 'running'] },
];

/** Stacked-bar series from the report's per-bucket status counts. */
export function statusSeries(series: AnalyticsReport['runs']['series']) {
  return STATUS_SERIES.map((s) => ({
    label: s.label,
    color: s.color,
    values: series.map((b) => s.statuses.reduce((a, st) => a + (b.by_status[st] ?? 0), 0)),
  }));
}
