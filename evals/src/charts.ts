/**
 * Inline SVG charts for the HTML report: no script, no external file, so the page is one
 * self-contained document that renders the same in a browser, a CI artifact viewer or an email.
 * Colours come from CSS variables of the page (`--ok`, `--bad`, `--accent`, `--muted`).
 */

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export interface Bar {
  label: string;
  /** 0–1. */
  value: number;
  /** A second series drawn thinner under the first (e.g. mean score under pass rate). */
  second?: number;
  note?: string;
}

/** Horizontal bars of rates, one row per group. */
export function barChart(title: string, bars: readonly Bar[], legend: [string, string?]): string {
  const row = 30;
  const left = 130;
  const width = 560;
  const plot = width - left - 110;
  const height = 28 + bars.length * row + 24;
  const rows = bars.map((b, i) => {
    const y = 28 + i * row;
    const w = Math.max(0, Math.min(1, b.value)) * plot;
    const second = b.second === undefined ? '' : `<rect x="${left}" y="${y + 17}" width="${(Math.max(0, Math.min(1, b.second)) * plot).toFixed(1)}" height="5" fill="var(--accent)" opacity="0.55"><title>${esc(`${b.label}: ${legend[1] ?? ''} ${pct(b.second)}`)}</title></rect>`;
    return [
      `<text x="${left - 8}" y="${y + 13}" text-anchor="end" class="label">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${plot}" height="16" fill="var(--track)"/>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="16" fill="${b.value >= 1 ? 'var(--ok)' : b.value >= 0.8 ? 'var(--warn)' : 'var(--bad)'}"><title>${esc(`${b.label}: ${legend[0]} ${pct(b.value)}`)}</title></rect>`,
      second,
      `<text x="${left + plot + 6}" y="${y + 13}" class="value">${pct(b.value)}${b.note ? ` ${esc(b.note)}` : ''}</text>`,
    ].join('');
  });
  const key = `<text x="${left}" y="${height - 6}" class="muted">■ ${esc(legend[0])}${legend[1] ? ` · thin bar: ${esc(legend[1])}` : ''}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px"><text x="0" y="16" class="muted">${esc(title)}</text>${rows.join('')}${key}</svg></figure>`;
}

/** One column per case: height is its match score, colour whether it passed. */
export function caseColumns(title: string, cases: ReadonlyArray<{ name: string; score: number; passed: boolean; regressed?: boolean }>): string {
  const width = 720;
  const height = 190;
  const top = 24;
  const bottom = 150;
  const left = 34;
  const slot = (width - left - 8) / Math.max(1, cases.length);
  const bw = Math.max(2, slot - 2);
  const y = (v: number) => bottom - v * (bottom - top);
  const grid = [0, 0.5, 0.8, 1]
    .map((v) => `<line x1="${left}" x2="${width - 4}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${left - 4}" y="${y(v) + 4}" text-anchor="end" class="muted">${v * 100}%</text>`)
    .join('');
  const cols = cases
    .map((c, i) => {
      const x = left + i * slot + 1;
      const h = Math.max(1.5, c.score * (bottom - top));
      const fill = c.regressed ? 'var(--bad)' : c.passed ? 'var(--ok)' : 'var(--warn)';
      return `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${fill}"${c.regressed ? ' stroke="var(--fg)" stroke-width="1.5"' : ''}><title>${esc(`${c.name}: ${pct(c.score)}, ${c.passed ? 'passed' : 'failed'}${c.regressed ? ', regressed' : ''}`)}</title></rect>`;
    })
    .join('');
  const legend = `<text x="${left}" y="${height - 10}" class="muted">■ green passed · amber failed · red regressed against the baseline (hover a column for the case)</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px"><text x="0" y="14" class="muted">${esc(title)}</text>${grid}${cols}${legend}</svg></figure>`;
}

/** Every attempt's latency, sorted: the shape of the distribution, with p50 and p95 marked. */
export function latencyCurve(title: string, latencies: readonly number[], p50: number | null, p95: number | null): string {
  const width = 560;
  const height = 170;
  const left = 56;
  const top = 24;
  const bottom = 130;
  if (latencies.length === 0) return '';
  const sorted = [...latencies].sort((a, b) => a - b);
  const max = Math.max(1, sorted[sorted.length - 1]!);
  const x = (i: number) => left + (sorted.length === 1 ? 0 : (i / (sorted.length - 1)) * (width - left - 10));
  const y = (v: number) => bottom - (v / max) * (bottom - top);
  const path = sorted.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
  const mark = (v: number | null, name: string) =>
    v === null ? '' : `<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" class="mark"/><text x="${width - 12}" y="${y(v) - 4}" text-anchor="end" class="muted">${name} ${fmt(v)}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px"><text x="0" y="14" class="muted">${esc(title)}</text><text x="${left - 6}" y="${top + 4}" text-anchor="end" class="muted">${fmt(max)}</text><text x="${left - 6}" y="${bottom}" text-anchor="end" class="muted">0</text><path d="${path}" fill="none" stroke="var(--accent)" stroke-width="2"/>${mark(p50, 'p50')}${mark(p95, 'p95')}<text x="${left}" y="${height - 12}" class="muted">${sorted.length} attempts, fastest to slowest</text></svg></figure>`;
}
