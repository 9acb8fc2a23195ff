/**
 * The platform's metrics, computed from D1 at scrape time with a handful of aggregate statements
 * sent as one batch. Every series carries a `tenant` label. Counters are totals over rows that are
 * never deleted (runs, steps, deliveries), so they only grow, as Prometheus counters must.
 *
 * Bounded by construction: each statement is one aggregate pass over a table or an index, grouped
 * to at most tenants × a fixed set of values (statuses, modes, tools of the catalog, webhook
 * sources), and the result is cached per isolate for a few seconds, so two Prometheus replicas
 * scraping every 15 s cost one pass, not two.
 */
import { histogramSeries, render, type Family, type Series } from './exposition';

/** Step latency buckets (seconds): from a quick API call to a step that waited an hour. */
export const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const MAX_GROUPS = 50_000;
const CACHE_MS = 5_000;

type Row = Record<string, unknown>;

const num = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0)) || 0;
const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

const bucketColumns = STEP_BUCKETS.map((b, i) => `sum(d <= ${b}) AS b${i}`).join(', ');

const STATEMENTS = {
  tenants: `SELECT id, name FROM tenants ORDER BY id LIMIT ${MAX_GROUPS}`,
  runs: `SELECT tenant_id, status, mode, count(*) AS n, sum(tokens) AS tokens, sum(cost_usd) AS cost FROM runs GROUP BY tenant_id, status, mode LIMIT ${MAX_GROUPS}`,
  steps: `SELECT tenant_id, status, count(*) AS n FROM run_steps GROUP BY tenant_id, status LIMIT ${MAX_GROUPS}`,
  // Denied by the policy (a deny rule or a blast-radius limit), as opposed to by an approver.
  denials: `SELECT tenant_id, count(*) AS n FROM run_steps WHERE status = 'denied' AND json_extract(decision, '$.effect') = 'deny' GROUP BY tenant_id LIMIT ${MAX_GROUPS}`,
  latency: `SELECT tenant_id, tool, count(*) AS n, sum(d) AS total, ${bucketColumns} FROM (
      SELECT tenant_id, tool, (julianday(ended_at) - julianday(started_at)) * 86400.0 AS d
      FROM run_steps WHERE started_at IS NOT NULL AND ended_at IS NOT NULL
    ) GROUP BY tenant_id, tool LIMIT ${MAX_GROUPS}`,
  // The newest seq per tenant is a probe of the primary key, not a scan of the log.
  audit: `SELECT id AS tenant_id, (SELECT max(seq) FROM audit_log WHERE tenant_id = tenants.id) AS n FROM tenants ORDER BY id LIMIT ${MAX_GROUPS}`,
  hasDeliveries: `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'webhook_deliveries'`,
};
const DELIVERIES = `SELECT tenant_id, source, count(*) AS n, sum(runs != '[]') AS started FROM webhook_deliveries GROUP BY tenant_id, source LIMIT ${MAX_GROUPS}`;

/** Every family served, with its type: the Grafana dashboard's test checks its queries against these. */
export const METRIC_FAMILIES = {
  agentrunbook_tenant_info: 'gauge',
  agentrunbook_runs: 'gauge',
  agentrunbook_run_tokens_total: 'counter',
  agentrunbook_run_cost_usd_total: 'counter',
  agentrunbook_steps: 'gauge',
  agentrunbook_approvals_waiting: 'gauge',
  agentrunbook_policy_denials_total: 'counter',
  agentrunbook_step_duration_seconds: 'histogram',
  agentrunbook_webhook_deliveries_total: 'counter',
  agentrunbook_webhook_deliveries_started_runs_total: 'counter',
  agentrunbook_audit_entries: 'gauge',
  agentrunbook_metrics_scrape_duration_seconds: 'gauge',
} as const;

export interface MetricsSnapshot {
  text: string;
  /** Whether the webhook_deliveries table exists (it comes with the webhooks work). */
  deliveriesTable: boolean;
}

let cache: { at: number; db: D1Database; snapshot: Promise<MetricsSnapshot> } | undefined;

/** The exposition text, from cache when a scrape came in the last few seconds (unless `fresh`). */
export function metricsText(db: D1Database, fresh = false, now = Date.now()): Promise<MetricsSnapshot> {
  if (!fresh && cache && cache.db === db && now - cache.at < CACHE_MS) return cache.snapshot;
  const snapshot = collect(db);
  cache = { at: now, db, snapshot };
  snapshot.catch(() => (cache = undefined));
  return snapshot;
}

const family = (name: keyof typeof METRIC_FAMILIES, help: string, series: Series[]): Family => ({ name, help, type: METRIC_FAMILIES[name], series });

async function collect(db: D1Database): Promise<MetricsSnapshot> {
  const started = Date.now();
  const names = Object.keys(STATEMENTS) as (keyof typeof STATEMENTS)[];
  const results = await db.batch<Row>(names.map((n) => db.prepare(STATEMENTS[n])));
  const rows = Object.fromEntries(names.map((n, i) => [n, results[i]?.results ?? []])) as Record<keyof typeof STATEMENTS, Row[]>;
  const deliveriesTable = num(rows.hasDeliveries[0]?.n) > 0;
  const deliveries = deliveriesTable ? ((await db.prepare(DELIVERIES).all<Row>()).results ?? []) : [];

  const tenants = rows.tenants.map((r) => str(r.id));
  const perTenant = (values: Map<string, number>): Series[] => tenants.map((t) => ({ labels: { tenant: t }, value: values.get(t) ?? 0 }));
  const sumBy = (list: Row[], key: string, pick: (r: Row) => number) => {
    const m = new Map<string, number>();
    for (const r of list) m.set(str(r[key]), (m.get(str(r[key])) ?? 0) + pick(r));
    return m;
  };

  const families: Family[] = [
    family('agentrunbook_tenant_info', 'One series per tenant, to join its name onto the other metrics by the tenant label.', rows.tenants.map((r) => ({ labels: { tenant: str(r.id), name: str(r.name) }, value: 1 }))),
    family('agentrunbook_runs', 'Runs by current status and mode.', rows.runs.map((r) => ({ labels: { tenant: str(r.tenant_id), status: str(r.status), mode: str(r.mode) }, value: num(r.n) }))),
    family('agentrunbook_run_tokens_total', 'LLM tokens used by runs (input and output).', perTenant(sumBy(rows.runs, 'tenant_id', (r) => num(r.tokens)))),
    family('agentrunbook_run_cost_usd_total', 'LLM cost of runs, in US dollars.', perTenant(sumBy(rows.runs, 'tenant_id', (r) => num(r.cost)))),
    family('agentrunbook_steps', 'Run steps by current status.', rows.steps.map((r) => ({ labels: { tenant: str(r.tenant_id), status: str(r.status) }, value: num(r.n) }))),
    family('agentrunbook_approvals_waiting', 'Steps waiting for an approval now.', perTenant(sumBy(rows.steps.filter((r) => r.status === 'awaiting_approval'), 'tenant_id', (r) => num(r.n)))),
    family('agentrunbook_policy_denials_total', 'Steps the policy denied (a deny rule or a blast-radius limit); denials by approvers are in agentrunbook_steps{status="denied"}.', perTenant(sumBy(rows.denials, 'tenant_id', (r) => num(r.n)))),
    family(
      'agentrunbook_step_duration_seconds',
      'Time from a step starting to its end (success or failure, retries included), by tool.',
      rows.latency.flatMap((r) => histogramSeries({ tenant: str(r.tenant_id), tool: str(r.tool) }, STEP_BUCKETS, STEP_BUCKETS.map((_, i) => num(r[`b${i}`])), num(r.n), num(r.total))),
    ),
    family('agentrunbook_webhook_deliveries_total', 'Webhook deliveries accepted, by source.', deliveriesTable ? deliveries.map((r) => ({ labels: { tenant: str(r.tenant_id), source: str(r.source) }, value: num(r.n) })) : perTenant(new Map())),
    family('agentrunbook_webhook_deliveries_started_runs_total', 'Webhook deliveries that started at least one run, by source.', deliveriesTable ? deliveries.map((r) => ({ labels: { tenant: str(r.tenant_id), source: str(r.source) }, value: num(r.started) })) : perTenant(new Map())),
    family('agentrunbook_audit_entries', 'Entries in the tenant audit log (its latest sequence number).', rows.audit.map((r) => ({ labels: { tenant: str(r.tenant_id) }, value: num(r.n) }))),
    family('agentrunbook_metrics_scrape_duration_seconds', 'Time taken to compute these metrics.', [{ labels: {}, value: (Date.now() - started) / 1000 }]),
  ];
  return { text: render(families), deliveriesTable };
}
