/** The Analytics page's ranges: presets ending now, or a custom span of whole days (UTC). */
export const PRESETS = [
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { id: '90d', label: 'Last 90 days', ms: 90 * 86_400_000 },
] as const;

export type PresetId = (typeof PRESETS)[number]['id'];

export interface ResolvedRange {
  /** A preset id, or `custom`. */
  id: PresetId | 'custom';
  from: string;
  to: string;
  /** Undefined leaves the choice to the API (hours up to two days, days beyond). */
  bucket?: 'hour' | 'day';
  /** The custom dates as `YYYY-MM-DD` for the form's date inputs. */
  fromDate: string;
  toDate: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads the range from the URL. A custom range takes whole UTC days, `to` included; anything
 * unreadable falls back to the last 7 days rather than failing the page.
 */
export function resolveRange(params: URLSearchParams, now: number): ResolvedRange {
  const bucketParam = params.get('bucket');
  const bucket = bucketParam === 'hour' || bucketParam === 'day' ? bucketParam : undefined;
  const fromDate = params.get('from') ?? '';
  const toDate = params.get('to') ?? '';
  if (DATE.test(fromDate) && DATE.test(toDate) && fromDate <= toDate) {
    const from = new Date(`${fromDate}T00:00:00.000Z`);
    const to = new Date(Date.parse(`${toDate}T00:00:00.000Z`) + 86_400_000);
    return { id: 'custom', from: from.toISOString(), to: to.toISOString(), bucket, fromDate, toDate };
  }
  const preset = PRESETS.find((p) => p.id === params.get('range')) ?? PRESETS[1];
  const from = new Date(now - preset.ms);
  const to = new Date(now);
  return { id: preset.id, from: from.toISOString(), to: to.toISOString(), bucket, fromDate: from.toISOString().slice(0, 10), toDate: to.toISOString().slice(0, 10) };
}
