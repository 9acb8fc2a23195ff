import { barChart, caseColumns, esc, latencyCurve } from './charts';
import { HEADLINE, formatMetric, pct } from './format';
import { blockingRegressions, type FullReport } from './report';

const STYLE = `
:root { --fg:#1d2330; --muted:#5d6678; --bg:#fff; --card:#f6f7f9; --track:#e7e9ee; --ok:#1f8a4c; --warn:#c98a06; --bad:#c62f2f; --accent:#3559c7; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e8ee; --muted:#9aa3b5; --bg:#14171d; --card:#1d212a; --track:#2a2f3a; --accent:#7b9bff; } }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 24px; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.muted, .sub { color: var(--muted); }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; color: #fff; background: var(--ok); }
.verdict.failed { background: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 10px; }
.tile { background: var(--card); border-radius: 8px; padding: 10px 12px; border: 2px solid transparent; }
.tile.regressed { border-color: var(--bad); } .tile.warned { border-color: var(--warn); }
.tile .k { font-size: 12px; color: var(--muted); } .tile .v { font-size: 20px; font-weight: 650; } .tile .d { font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border-radius: 8px; padding: 10px; } figcaption { display: none; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); } svg text.muted { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--track); } svg .mark { stroke: var(--muted); stroke-dasharray: 4 3; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--track); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.result { white-space: nowrap; }
tr.regressed td { background: color-mix(in srgb, var(--bad) 14%, transparent); }
.pass { color: var(--ok); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
ul.list { margin: 0; padding-left: 18px; } code { font-size: 12px; }
details summary { cursor: pointer; }
`;

function tile(key: string, label: string, r: FullReport): string {
  const reg = r.baseline?.regressions.find((x) => x.kind === 'metric' && x.name === key);
  const imp = r.baseline?.improvements.find((x) => x.kind === 'metric' && x.name === key);
  const cls = reg ? (reg.severity === 'error' ? 'regressed' : 'warned') : '';
  const delta = reg
    ? `<div class="d fail">${reg.severity === 'error' ? '▼ regression' : '▲ slower/costlier'}: was ${esc(formatMetric(key, reg.baseline))}</div>`
    : imp
      ? `<div class="d pass">▲ was ${esc(formatMetric(key, imp.baseline))}</div>`
      : r.baseline
        ? `<div class="d sub">baseline ${esc(formatMetric(key, r.baseline.metrics[key]))}</div>`
        : '';
  return `<div class="tile ${cls}"><div class="k">${esc(label)}</div><div class="v">${esc(formatMetric(key, r.metrics[key]))}</div>${delta}</div>`;
}

function caseRows(r: FullReport): string {
  const regressed = new Set(r.baseline?.regressions.filter((x) => x.kind === 'case').map((x) => x.name) ?? []);
  return r.results
    .map((c) => {
      const failing = c.attempts.filter((a) => !a.passed);
      const scripted = c.scripted_attacks;
      const attack = c.attack
        ? `${esc(c.attack.channel)} → <code>${esc(c.attack.tool)}</code>${scripted ? `<br><span class="sub">scripted: ${scripted.filter((s) => s.succeeded).length}/${scripted.length} got through, ${scripted.reduce((n, s) => n + s.refused, 0)} refused</span>` : ''}`
        : '';
      const deviations = (a: (typeof c.attempts)[number]) =>
        `<br><span class="sub">plan: ${esc(a.plan.join(' → ') || '(nothing)')}</span>${a.deviations
          .map((d) => `<br><span class="sub">${esc(d.kind)}: ${esc(d.expected ?? '—')} / ${esc(d.actual ?? '—')}${d.differences ? ` (${esc(d.differences.join('; '))})` : ''}</span>`)
          .join('')}`;
      const deviating = c.attempts.filter((a) => a.passed && a.deviations.length > 0);
      const detail = failing.length
        ? `<details><summary>${esc(failing[0]!.failures[0] ?? 'failed')}</summary><ul class="list">${failing.map((a) => `<li>attempt ${a.rep}: ${esc(a.failures.join('; '))}${deviations(a)}</li>`).join('')}</ul></details>`
        : deviating.length
          ? `<details><summary>passed, not exactly as expected</summary><ul class="list">${deviating.map((a) => `<li>attempt ${a.rep}${deviations(a)}</li>`).join('')}</ul></details>`
          : '';
      const lat = c.attempts.map((a) => a.latency_ms);
      return `<tr class="${regressed.has(c.case) ? 'regressed' : ''}" title="${esc(c.description)}"><td><strong>${esc(c.case)}</strong>${regressed.has(c.case) ? ' <span class="fail">regressed</span>' : ''}<br><span class="sub">${esc(c.tags.join(', '))}</span></td><td>${esc(c.integration)}</td><td class="result ${c.passed ? 'pass' : 'fail'}">${c.passed ? 'pass' : 'fail'}${c.attempts.length > 1 ? ` <span class="sub">${c.attempts.filter((a) => a.passed).length}/${c.attempts.length}</span>` : ''}</td><td class="num">${pct(c.score)}</td><td>${c.exact ? 'yes' : 'no'}</td><td class="num">${esc(formatMetric('latency_ms', Math.max(...lat)))}</td><td>${attack}</td><td>${detail}</td></tr>`;
    })
    .join('\n');
}

/** The HTML report: one self-contained page (inline CSS and SVG, no script, no request). */
export function htmlReport(r: FullReport): string {
  const failedGates = r.thresholds.failures.length > 0 || blockingRegressions(r).length > 0;
  const regressed = new Set(r.baseline?.regressions.filter((x) => x.kind === 'case').map((x) => x.name) ?? []);
  const charts = [
    barChart('Cases passed by integration (thin bar: mean match score)', r.breakdown.integrations.map((b) => ({ label: b.group, value: b.pass_rate, second: b.score, note: `${b.passed}/${b.cases}` })), ['cases passed', 'mean match score']),
    barChart('Cases passed by tag', r.breakdown.tags.map((b) => ({ label: b.group, value: b.pass_rate, second: b.score, note: `${b.passed}/${b.cases}` })), ['cases passed', 'mean match score']),
    caseColumns('Match score of every case', r.results.map((c) => ({ name: c.case, score: c.score, passed: c.passed, regressed: regressed.has(c.case) }))),
    latencyCurve('Latency of every attempt', r.results.flatMap((c) => c.attempts.map((a) => a.latency_ms)), r.metrics.latency_p50_ms, r.metrics.latency_p95_ms),
  ].join('\n');
  const gates = r.thresholds.failures.length ? `<ul class="list">${r.thresholds.failures.map((f) => `<li class="fail">${esc(f)}</li>`).join('')}</ul>` : '<p class="pass">All thresholds met.</p>';
  const rules = Object.entries(r.thresholds.rules)
    .map(([k, v]) => `<code>${esc(k)}: ${v}</code>`)
    .join(' · ');
  const base = r.baseline
    ? `<h2>Against baseline ${esc(r.baseline.id)}</h2><p class="sub">${esc(r.baseline.provider)} / ${esc(r.baseline.model)}, ${esc(r.baseline.created_at)}</p>${
        r.baseline.regressions.length === 0 ? '<p class="pass">No regressions.</p>' : `<ul class="list">${r.baseline.regressions.map((x) => `<li class="${x.severity === 'error' ? 'fail' : ''}">${x.severity === 'error' ? 'Regression' : 'Warning'}: ${esc(x.message)}</li>`).join('')}</ul>`
      }${r.baseline.improvements.length ? `<ul class="list">${r.baseline.improvements.map((x) => `<li class="pass">Improvement: ${esc(x.message)}</li>`).join('')}</ul>` : ''}`
    : '<p class="sub">No baseline to compare with.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation ${esc(r.id)}</title><style>${STYLE}</style></head>
<body>
<h1>Agent evaluation <span class="verdict ${failedGates ? 'failed' : ''}">${failedGates ? 'failed' : 'passed'}</span></h1>
<p class="sub">${esc(r.id)} · provider <strong>${esc(r.provider)}</strong> · model <strong>${esc(r.model)}</strong> · ${r.cases} cases × k=${r.k} · ${esc(r.created_at)} · ${(r.duration_ms / 1000).toFixed(1)} s</p>
<div class="tiles">${HEADLINE.map((h) => tile(h.key, h.label, r)).join('')}</div>
<h2>Gates</h2>${gates}<p class="sub">${rules}</p>
${base}
<h2>Charts</h2><div class="charts">${charts}</div>
<h2>Cases (${r.passed}/${r.cases} passed)</h2>
<table><thead><tr><th>case</th><th>integration</th><th>result</th><th class="num">score</th><th>exact</th><th class="num">latency</th><th>injection</th><th>notes</th></tr></thead>
<tbody>
${caseRows(r)}
</tbody></table>
<p class="sub">Match score: worker/shadow/score.ts. Attack success: the injected call would have run (an approval gate is not counted as a defence). Written by <code>npm run eval</code>.</p>
</body></html>
`;
}
