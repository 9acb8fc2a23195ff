/**
 * Trusted facts (DESIGN §13): what a policy may believe because the server knows it, not because
 * the caller said so. `target` is what the tenant registered about the call's target, `tenant` its
 * schedule (time zone, business hours, change freezes), `now` the server's clock with the facts
 * derived from it. Pure: the D1 side that looks the facts up is facts-load.ts.
 */

/** What kind of thing a tool acts on, named by one of its arguments. */
export type TargetKind = 'cluster' | 'repository' | 'project' | 'service' | 'none';

export interface TargetFacts {
  kind: TargetKind;
  /** The cluster, `owner/repo`, Jira project key or PagerDuty service id; "" when the call has none. */
  name: string;
  /** The tenant told the platform about it: a registered cluster (not revoked), or a repository, project or service given labels in its integration's settings. */
  registered: boolean;
  /** An executed call reaches the real system: a registered cluster's relay, or an integration in live mode. */
  live: boolean;
  /** The labels the tenant set on it; {} for a target nobody labelled. */
  labels: Record<string, string>;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface BusinessHours {
  days: Weekday[];
  /** "HH:MM", local time in the tenant's time zone. */
  start: string;
  /** "HH:MM" (up to "24:00"), after `start`. */
  end: string;
}

export interface ChangeFreeze {
  name: string;
  /** ISO 8601 instants (with a zone offset): the freeze holds from `start` until before `end`. */
  start: string;
  end: string;
  reason?: string;
}

/** The tenant's schedule as its settings hold it (all optional there). */
export interface Schedule {
  time_zone?: string;
  business_hours?: BusinessHours;
  change_freezes?: ChangeFreeze[];
}

/** Business hours when a tenant set none: weekdays, nine to five. */
export const DEFAULT_BUSINESS_HOURS: BusinessHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };

export interface TenantFacts {
  time_zone: string;
  business_hours: BusinessHours;
  change_freezes: ChangeFreeze[];
}

export interface NowFacts {
  /** The server's clock, ISO 8601 UTC. */
  utc: string;
  /** Local to the tenant's time zone. */
  date: string;
  time: string;
  hour: number;
  weekday: Weekday;
  /** Inside the tenant's business hours. */
  business_hours: boolean;
  /** Inside one of the tenant's change-freeze windows. */
  change_freeze: boolean;
  /** The freeze in effect ("" when none). */
  change_freeze_name: string;
}

export interface Facts {
  target: TargetFacts;
  tenant: TenantFacts;
  now: NowFacts;
}

/** Which target a call names: the argument that identifies it, by the tool's namespace. */
export function targetOf(toolId: string, args: Record<string, unknown>): Pick<TargetFacts, 'kind' | 'name'> {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const [ns] = toolId.split('.');
  if (ns === 'k8s') return { kind: 'cluster', name: str(args.cluster) };
  if (ns === 'github') return { kind: 'repository', name: str(args.repo) };
  if (ns === 'jira') {
    // An issue key names its project: OPS-12 is in OPS.
    const project = str(args.project) || str(args.key).replace(/-\d+$/, '');
    return { kind: 'project', name: project };
  }
  if (ns === 'pagerduty' && typeof args.service_id === 'string') return { kind: 'service', name: args.service_id };
  return { kind: 'none', name: '' };
}

/** The target of a call nobody registered or labelled (also the fallback when no lookup is possible). */
export function unknownTarget(toolId: string, args: Record<string, unknown>): TargetFacts {
  return { ...targetOf(toolId, args), registered: false, live: false, labels: {} };
}

/** The tenant's schedule with its defaults filled in. */
export function tenantFacts(schedule: Schedule = {}): TenantFacts {
  return {
    time_zone: schedule.time_zone ?? 'UTC',
    business_hours: schedule.business_hours ?? DEFAULT_BUSINESS_HOURS,
    change_freezes: schedule.change_freezes ?? [],
  };
}

/** The clock's facts at `nowMs` for this tenant. */
export function nowFacts(nowMs: number, tenant: TenantFacts): NowFacts {
  const local = localTime(nowMs, tenant.time_zone);
  const bh = tenant.business_hours;
  const freeze = tenant.change_freezes.find((f) => Date.parse(f.start) <= nowMs && nowMs < Date.parse(f.end));
  return {
    utc: new Date(nowMs).toISOString(),
    date: local.date,
    time: local.time,
    hour: local.hour,
    weekday: local.weekday,
    business_hours: bh.days.includes(local.weekday) && bh.start <= local.time && local.time < bh.end,
    change_freeze: freeze !== undefined,
    change_freeze_name: freeze?.name ?? '',
  };
}

/** All facts for one call; `target` as looked up (or unknown). */
export function factsFor(target: TargetFacts, schedule: Schedule, nowMs: number): Facts {
  const tenant = tenantFacts(schedule);
  return { target, tenant, now: nowFacts(nowMs, tenant) };
}

/** A time zone the runtime knows (IANA name, e.g. "Europe/Berlin"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Formatters by time zone: building one costs far more than using it (it was most of a decision's facts). */
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' });
    // Zones are the tenants' (a few hundred names at most); the bound only guards against the unexpected.
    if (FORMATTERS.size >= 1_000) FORMATTERS.clear();
    FORMATTERS.set(zone, f);
  }
  return f;
}

function localTime(ms: number, zone: string): { date: string; time: string; hour: number; weekday: Weekday } {
  const parts = Object.fromEntries(
    formatterFor(zone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const hour = Number(parts.hour) % 24;
  const time = `${String(hour).padStart(2, '0')}:${parts.minute}`;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time, hour, weekday: String(parts.weekday).toLowerCase().slice(0, 3) as Weekday };
}
