/**
 * The Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
 * `# HELP` and `# TYPE` once per family, then one `name{labels} value` line per series.
 */

export type Labels = Record<string, string>;

export interface Series {
  /** Appended to the family name: `_bucket`, `_sum`, `_count` for histograms, empty otherwise. */
  suffix?: string;
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  series: Series[];
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export function render(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.series) out.push(`${f.name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return out.join('\n') + '\n';
}

/**
 * The series of one histogram: cumulative `le` buckets (ending with +Inf = count), sum and count.
 * `cumulative[i]` is the number of observations ≤ `bounds[i]`.
 */
export function histogramSeries(labels: Labels, bounds: number[], cumulative: number[], count: number, sum: number): Series[] {
  return [
    ...bounds.map((b, i) => ({ suffix: '_bucket', labels: { ...labels, le: String(b) }, value: cumulative[i] ?? 0 })),
    { suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count },
    { suffix: '_sum', labels, value: sum },
    { suffix: '_count', labels, value: count },
  ];
}
