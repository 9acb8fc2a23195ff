import { HEADLINE, formatMetric } from './format';
import { blockingRegressions, type FullReport } from './report';

/** The scorecard printed at the end of `npm run eval`: headline numbers, gates, regressions, failed cases. */
export function scorecard(report: FullReport, paths: string[], color: boolean): string {
  const c = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const ok = (s: string) => c('32', s);
  const bad = (s: string) => c('31', s);
  const warn = (s: string) => c('33', s);
  const lines: string[] = [];
  lines.push(c('1', `Evaluation ${report.id}`));
  lines.push(`provider ${report.provider} · model ${report.model} · ${report.cases} cases × k=${report.k} · ${(report.duration_ms / 1000).toFixed(1)} s`);
  lines.push('');
  const width = Math.max(...HEADLINE.map((h) => h.label.length));
  for (const h of HEADLINE) {
    const delta = report.baseline?.regressions.find((r) => r.kind === 'metric' && r.name === h.key);
    const mark = delta ? (delta.severity === 'error' ? bad(`  ▼ was ${formatMetric(h.key, delta.baseline)}`) : warn(`  ▲ was ${formatMetric(h.key, delta.baseline)}`)) : '';
    lines.push(`  ${h.label.padEnd(width)}  ${formatMetric(h.key, report.metrics[h.key]).padStart(10)}${mark}`);
  }
  const scripted = report.results.flatMap((r) => r.scripted_attacks ?? []);
  if (scripted.length > 0) {
    const injections = report.results.filter((r) => r.attack).length;
    lines.push('');
    lines.push(
      `  Prompt injection: ${injections} cases; the scripted attacker made ${scripted.length} attempts, ${scripted.filter((s) => s.delivered).length} reached a model, ` +
        `${scripted.reduce((n, s) => n + s.refused, 0)} injected calls were refused, ${scripted.filter((s) => s.succeeded).length} got through.`,
    );
  }
  lines.push('');
  lines.push(`  ${'Cases'.padEnd(width)}  ${`${report.passed}/${report.cases}`.padStart(10)}`);
  for (const b of report.breakdown.integrations) lines.push(`    ${b.group.padEnd(width - 2)}  ${`${b.passed}/${b.cases}`.padStart(10)}  score ${formatMetric('match_score', b.score)}`);
  const failed = report.results.filter((r) => !r.passed);
  if (failed.length > 0) {
    lines.push('');
    lines.push(bad(`Failed cases (${failed.length}):`));
    for (const r of failed) {
      const first = r.attempts.find((a) => !a.passed);
      lines.push(`  ✗ ${r.case}: ${(first?.failures ?? []).join('; ').slice(0, 300)}`);
    }
  }
  if (report.baseline) {
    const regressions = report.baseline.regressions;
    lines.push('');
    lines.push(regressions.length === 0 ? ok(`No regressions against baseline ${report.baseline.id}.`) : warn(`Against baseline ${report.baseline.id}:`));
    for (const r of regressions) lines.push(`  ${r.severity === 'error' ? bad('▼ regression') : warn('▲ warning')} ${r.message}`);
    if (report.baseline.improvements.length > 0) lines.push(ok(`  ${report.baseline.improvements.length} improvement(s)`));
  }
  lines.push('');
  if (report.thresholds.failures.length === 0) lines.push(ok('All thresholds met.'));
  for (const f of report.thresholds.failures) lines.push(bad(`✗ threshold: ${f}`));
  if (blockingRegressions(report).length > 0) lines.push(bad(`✗ ${blockingRegressions(report).length} regression(s) against the baseline`));
  lines.push('');
  lines.push(`Reports: ${paths.join(', ')}`);
  return lines.join('\n');
}
