/**
 * Looks up the trusted facts of a call in D1: the registered cluster's labels, the integration's
 * labels for a repository, project or service, and the tenant's schedule. Every decide() on the
 * server gets its facts from here, never from the request.
 */
import { and, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { clusters, integrations } from '../db/schema';
import { getTenantSettings } from '../store/settings';
import { factsFor, targetOf, unknownTarget, type Facts, type Schedule, type TargetFacts } from './facts';

const VENDOR_OF: Partial<Record<TargetFacts['kind'], 'github' | 'jira' | 'pagerduty'>> = { repository: 'github', project: 'jira', service: 'pagerduty' };

/**
 * One tenant's facts source. Lookups are remembered for its lifetime (one request, one replay), or
 * for `maxAgeMs` when it lives longer (a run's engine: a label changed now holds for the run's next
 * steps within seconds, without a D1 round trip for every step).
 */
export interface FactsSource {
  forCall(toolId: string, args: Record<string, unknown>, nowMs: number): Promise<Facts>;
}

export function factsSource(db: DB, tenantId: string, opts: { maxAgeMs?: number; now?: () => number } = {}): FactsSource {
  const once = rememberFor(opts.maxAgeMs ?? Infinity, opts.now ?? Date.now);
  const schedule = () => once('schedule', async (): Promise<Schedule> => {
    const s = await getTenantSettings(db, tenantId);
    return { time_zone: s.time_zone, business_hours: s.business_hours, change_freezes: s.change_freezes };
  });
  const target = (toolId: string, args: Record<string, unknown>) => {
    const { kind, name } = targetOf(toolId, args);
    return once(`target:${kind}:${name}`, () => lookupTarget(db, tenantId, toolId, args));
  };
  return {
    async forCall(toolId, args, nowMs) {
      const [t, s] = await Promise.all([target(toolId, args), schedule()]);
      return factsFor(t, s, nowMs);
    },
  };
}

/**
 * A memo of loads by key, each kept `maxAgeMs` from when it was asked for. Concurrent asks share one
 * load; a load that fails is forgotten, so the next ask tries again.
 */
export function rememberFor(maxAgeMs: number, now: () => number) {
  const memo = new Map<string, { at: number; value: Promise<unknown> }>();
  return <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = memo.get(key);
    if (hit && now() - hit.at < maxAgeMs) return hit.value as Promise<T>;
    const value = load();
    memo.set(key, { at: now(), value });
    value.catch(() => memo.get(key)?.value === value && memo.delete(key));
    return value;
  };
}

/** The facts of one call (a single lookup). */
export function loadFacts(db: DB, tenantId: string, toolId: string, args: Record<string, unknown>, nowMs: number): Promise<Facts> {
  return factsSource(db, tenantId).forCall(toolId, args, nowMs);
}

async function lookupTarget(db: DB, tenantId: string, toolId: string, args: Record<string, unknown>): Promise<TargetFacts> {
  const unknown = unknownTarget(toolId, args);
  if (!unknown.name) return unknown;
  if (unknown.kind === 'cluster') {
    const [row] = await db
      .select({ labels: clusters.labels, revokedAt: clusters.revokedAt })
      .from(clusters)
      .where(and(eq(clusters.tenantId, tenantId), eq(clusters.name, unknown.name)))
      .limit(1);
    // A revoked cluster is no longer the tenant's to vouch for: unknown, and its calls fail (live.ts).
    if (!row || row.revokedAt) return unknown;
    return { ...unknown, registered: true, live: true, labels: row.labels ?? {} };
  }
  const vendor = VENDOR_OF[unknown.kind];
  if (!vendor) return unknown;
  const [row] = await db
    .select({ mode: integrations.mode, targetLabels: integrations.targetLabels })
    .from(integrations)
    .where(and(eq(integrations.tenantId, tenantId), eq(integrations.vendor, vendor)))
    .limit(1);
  if (!row) return unknown;
  const labels = Object.hasOwn(row.targetLabels ?? {}, unknown.name) ? row.targetLabels[unknown.name] : undefined;
  return { ...unknown, registered: labels !== undefined, live: row.mode === 'live', labels: labels ?? {} };
}
