import { HEADLINE, formatMetric, pct } from './format';
import { blockingRegressions, type FullReport } from './report';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown report: fits a pull request comment or a CI job summary. */
export function markdownReport(r: FullReport): string {
  const out: string[] = [];
  const verdict = r.thresholds.failures.length === 0 && blockingRegressions(r).length === 0 ? '✅ passed' : '❌ failed';
  out.push(`# Evaluation ${r.id} — ${verdict}`, '');
  out.push(`Provider **${r.provider}**, model **${r.model}**, ${r.cases} cases × k=${r.k}, ${r.created_at}, ${(r.duration_ms / 1000).toFixed(1)} s.`, '');

  out.push('## Scorecard', '', `| metric | value |${r.baseline ? ' baseline |' : ''}`, `| --- | ---: |${r.baseline ? ' ---: |' : ''}`);
  const base = r.baseline;
  for (const h of HEADLINE) {
    const reg = base?.regressions.find((x) => x.kind === 'metric' && x.name === h.key);
    const value = formatMetric(h.key, r.metrics[h.key]);
    out.push(`| ${h.label} | ${reg?.severity === 'error' ? `**${value}** ▼` : reg ? `${value} ▲` : value} |${base ? ` ${formatMetric(h.key, base.metrics[h.key])} |` : ''}`);
  }
  out.push('');

  out.push('## Gates', '');
  if (r.thresholds.failures.length === 0) out.push('All thresholds met.');
  for (const f of r.thresholds.failures) out.push(`- ❌ ${f}`);
  out.push('');
  if (base) {
    out.push(`## Against baseline ${base.id} (${base.provider}, ${base.created_at})`, '');
    if (base.regressions.length === 0) out.push('No regressions.');
    for (const x of base.regressions) out.push(`- ${x.severity === 'error' ? '🔴 **regression**' : '🟡 warning'}: ${x.message}`);
    for (const x of base.improvements) out.push(`- 🟢 improvement: ${x.message}`);
    if (base.new_cases.length) out.push(`- new cases: ${base.new_cases.join(', ')}`);
    if (base.missing_cases.length) out.push(`- cases in the baseline that did not run: ${base.missing_cases.join(', ')}`);
    out.push('');
  }

  out.push('## By integration and tag', '', '| group | cases | passed | mean score |', '| --- | ---: | ---: | ---: |');
  for (const b of [...r.breakdown.integrations, ...r.breakdown.tags.map((t) => ({ ...t, group: `#${t.group}` }))]) {
    out.push(`| ${b.group} | ${b.cases} | ${b.passed} | ${pct(b.score)} |`);
  }
  out.push('');

  const regressed = new Set(base?.regressions.filter((x) => x.kind === 'case').map((x) => x.name) ?? []);
  out.push('## Cases', '', '| case | integration | result | score | exact | attack | notes |', '| --- | --- | --- | ---: | --- | --- | --- |');
  for (const c of r.results) {
    const failing = c.attempts.find((a) => !a.passed);
    const scripted = c.scripted_attacks ? `scripted ${c.scripted_attacks.filter((s) => s.succeeded).length}/${c.scripted_attacks.length} got through` : '';
    const attack = c.attack ? `${c.attack.channel} → ${c.attack.tool}; ${scripted}` : '';
    const name = regressed.has(c.case) ? `**${c.case}** 🔴` : c.case;
    const result = c.passed ? (c.attempts.every((a) => a.passed) ? 'pass' : `pass@k (${c.attempts.filter((a) => a.passed).length}/${c.attempts.length})`) : '**fail**';
    out.push(`| ${cell(name)} | ${c.integration} | ${result} | ${pct(c.score)} | ${c.exact ? 'yes' : 'no'} | ${cell(attack)} | ${cell((failing?.failures ?? []).join('; ').slice(0, 200))} |`);
  }
  out.push('');
  const failed = r.results.filter((c) => !c.passed);
  if (failed.length > 0) {
    out.push('## Failures in detail', '');
    for (const c of failed) {
      out.push(`### ${c.case}`, '', c.description, '');
      for (const a of c.attempts.filter((x) => !x.passed)) {
        out.push(`- attempt ${a.rep}: ${a.failures.join('; ')}`);
        out.push(`  - plan: ${a.plan.join(' → ') || '(nothing)'}`);
        for (const d of a.deviations) out.push(`  - ${d.kind}: ${d.expected ?? '—'} / ${d.actual ?? '—'}${d.differences ? ` (${d.differences.join('; ')})` : ''}`);
      }
      out.push('');
    }
  }
  return out.join('\n');
}
