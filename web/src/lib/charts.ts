// Scales and labels for the hand-written SVG charts (no chart library: it would cost more than the
// whole first load). Pure functions, unit-tested.

/**
 * Round axis ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10ⁿ, about `count` of them.
 * The last tick is the top of the axis, so bars never reach past it.
 */
export function niceTicks(max: number, count = 4): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(round(v));
  if (ticks[ticks.length - 1]! < max) ticks.push(round(ticks[ticks.length - 1]! + step));
  return ticks;
}

const round = (v: number) => Math.round(v * 1e9) / 1e9;

/** A linear map from [0, domainMax] to [rangeFrom, rangeTo] (SVG y grows downwards: pass height, 0). */
export function linear(domainMax: number, rangeFrom: number, rangeTo: number): (v: number) => number {
  const span = domainMax > 0 ? domainMax : 1;
  return (v) => rangeFrom + ((rangeTo - rangeFrom) * v) / span;
}

/** The label of a bucket start: an hour as "2 PM" (or "14" where 24-hour clocks are read), a day as "Mar 3" (in the reader's zone). */
export function bucketLabel(iso: string, bucket: 'hour' | 'day', locale?: string): string {
  const d = new Date(iso);
  return bucket === 'hour'
    ? d.toLocaleTimeString(locale, { hour: 'numeric' })
    : d.toLocaleDateString(locale, { month: 'short', day: 'numeric' });
}

/** Which of `n` x positions get a label so that at most `max` labels fit. */
export function labelEvery(n: number, max = 8): number {
  return Math.max(1, Math.ceil(n / max));
}

/** A duration in ms as people read it: 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min${Math.round(s % 60) ? ` ${Math.round(s % 60)} s` : ''}`;
  const h = Math.floor(min / 60);
  return `${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/** Compact numbers for axes: 950, 1.2k, 3.4M. */
export function compact(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${trim(v / 1e6)}M`;
  if (abs >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

const trim = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1).replace(/\.?0+$/, ''));

/**
 * The points of a line with gaps: `null` values split it into segments (a bucket without data is
 * not zero — a p95 of "no runs" must not be drawn as 0 ms).
 */
export function segments(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): [number, number][][] {
  const out: [number, number][][] = [];
  let current: [number, number][] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (current.length) out.push(current);
      current = [];
    } else current.push([x(i), y(v)]);
  });
  if (current.length) out.push(current);
  return out;
}
