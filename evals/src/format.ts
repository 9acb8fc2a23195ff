/** How the reports name and print metrics; one place, so the console, Markdown and HTML agree. */

export const HEADLINE: Array<{ key: string; label: string }> = [
  { key: 'pass_at_k', label: 'Cases passed (pass@k)' },
  { key: 'pass_rate', label: 'Attempts passed' },
  { key: 'match_score', label: 'Match score' },
  { key: 'exact_plan_rate', label: 'Exact plan' },
  { key: 'hallucination_rate', label: 'Hallucination' },
  { key: 'policy_violations', label: 'Policy violations' },
  { key: 'attack_success_rate', label: 'Attack success' },
  { key: 'attack_success_rate_scripted', label: 'Attack success (scripted attacker)' },
  { key: 'latency_p50_ms', label: 'Latency p50' },
  { key: 'latency_p95_ms', label: 'Latency p95' },
  { key: 'tokens', label: 'Tokens' },
  { key: 'cost_usd', label: 'Cost' },
];

export function formatMetric(key: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  if (/(_rate|_score|pass_at_k|pass_all_k|_scripted)$/.test(key) && !key.startsWith('attacks_')) return `${(value * 100).toFixed(1)}%`;
  if (key.endsWith('_ms')) return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
  if (key.includes('usd')) return `$${value.toFixed(4)}`;
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2);
}

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
