import { IntegrationError } from './errors';
import { createExecutor, handler, type CallContext } from './executor';
import { noteFooter } from './markers';
import { PagerDutyHttpError, classifyPagerDutyError, pagerdutyClient, type PagerDutyRequest } from './pagerduty-client';
import { DEFAULT_RETRY, type ExecutorOptions, type IntegrationSettings, type LiveExecutor, type PagerDutyCredentials } from './types';

/**
 * The live `pagerduty.*` tools, through @pagerduty/pdjs (REST API v2). Idempotency: a created
 * incident carries the call's key as its `incident_key` (PagerDuty's own de-duplication);
 * acknowledging and resolving read the incident first and leave one already there alone; a note
 * ends with a line naming the call (notes have no hidden fields).
 */

type Ctx = CallContext<PagerDutyRequest>;
type Ref = { id: string; summary: string };

interface RestIncident {
  id: string;
  incident_number: number;
  title: string;
  status: string;
  urgency: string;
  html_url: string;
  service: Ref;
  assignments?: { assignee: Ref }[];
  created_at: string;
}

const ref = (r: Ref): Ref => ({ id: r.id, summary: r.summary });

function toIncident(i: RestIncident) {
  return {
    id: i.id,
    incident_number: i.incident_number,
    title: i.title,
    status: i.status,
    urgency: i.urgency,
    html_url: i.html_url,
    service: ref(i.service),
    assignments: (i.assignments ?? []).map((a) => ({ assignee: ref(a.assignee) })),
    created_at: i.created_at,
  };
}

async function getIncident(pd: PagerDutyRequest, id: string): Promise<RestIncident> {
  return ((await pd('GET', `/incidents/${encodeURIComponent(id)}`)) as { incident: RestIncident }).incident;
}

async function setStatus(pd: PagerDutyRequest, id: string, status: string, extra: object = {}): Promise<RestIncident> {
  const answer = await pd('PUT', `/incidents/${encodeURIComponent(id)}`, { data: { incident: { type: 'incident_reference', status, ...extra } } });
  return (answer as { incident: RestIncident }).incident;
}

const get = handler(async (a: { incident_id: string }, { client }: Ctx) => toIncident(await getIncident(client, a.incident_id)));

const acknowledge = handler(async (a: { incident_id: string }, { client }: Ctx) => {
  const current = await getIncident(client, a.incident_id);
  if (current.status === 'resolved') {
    throw new IntegrationError('pagerduty', 'conflict', `Incident ${a.incident_id} is already resolved; it cannot be acknowledged`);
  }
  const incident = current.status === 'acknowledged' ? current : await setStatus(client, a.incident_id, 'acknowledged');
  return toIncident(incident);
});

const resolve = handler(async (a: { incident_id: string; resolution?: string }, { client }: Ctx) => {
  const current = await getIncident(client, a.incident_id);
  const incident =
    current.status === 'resolved' ? current : await setStatus(client, a.incident_id, 'resolved', a.resolution ? { resolution: a.resolution } : {});
  return { ...toIncident(incident), resolution: a.resolution ?? null };
});

interface RestNote {
  id: string;
  content: string;
  created_at: string;
  user: Ref;
}

const addNote = handler(async (a: { incident_id: string; content: string }, { client, key }: Ctx) => {
  const path = `/incidents/${encodeURIComponent(a.incident_id)}/notes`;
  const footer = noteFooter(key);
  const { notes } = (await client('GET', path)) as { notes: RestNote[] };
  const note =
    notes.find((n) => n.content.endsWith(footer)) ??
    ((await client('POST', path, { data: { note: { content: `${a.content}${footer}` } } })) as { note: RestNote }).note;
  return { id: note.id, content: a.content, created_at: note.created_at, user: ref(note.user) };
});

interface CreateArgs {
  service_id: string;
  title: string;
  urgency?: 'high' | 'low';
  body?: string;
}

/** Every incident, open or resolved, that carries the key: PagerDuty only refuses a duplicate of an open one. */
async function findByKey(pd: PagerDutyRequest, serviceId: string, incidentKey: string): Promise<RestIncident | undefined> {
  const answer = (await pd('GET', '/incidents', {
    query: { incident_key: incidentKey, 'service_ids[]': [serviceId], date_range: 'all' },
  })) as { incidents: RestIncident[] };
  return answer.incidents[0];
}

const isDuplicate = (err: unknown): boolean =>
  err instanceof PagerDutyHttpError && err.status === 400 && /dedup|incident.?key/i.test(JSON.stringify(err.data ?? ''));

const createIncident = handler(async (a: CreateArgs, { client, key }: Ctx) => {
  const incidentKey = `agentrunbook:${key}`;
  let incident = await findByKey(client, a.service_id, incidentKey);
  if (!incident) {
    try {
      const answer = await client('POST', '/incidents', {
        data: {
          incident: {
            type: 'incident',
            title: a.title,
            service: { id: a.service_id, type: 'service_reference' },
            incident_key: incidentKey,
            ...(a.urgency ? { urgency: a.urgency } : {}),
            ...(a.body ? { body: { type: 'incident_body', details: a.body } } : {}),
          },
        },
      });
      incident = (answer as { incident: RestIncident }).incident;
    } catch (err) {
      // Created by a delivery that raced this one: PagerDuty refused the duplicate, so read it.
      incident = isDuplicate(err) ? await findByKey(client, a.service_id, incidentKey) : undefined;
      if (!incident) throw err;
    }
  }
  // The outcome of this call is the incident it triggered, even if someone has acknowledged it since.
  return { ...toIncident(incident), status: 'triggered' };
});

interface RestOncall {
  user: Ref & { email?: string };
  schedule: Ref | null;
  escalation_policy: Ref;
  escalation_level: number;
  start: string | null;
  end: string | null;
}

const PAGE = 100;
const MAX_ONCALLS = 1000;

const listOncalls = handler(async (a: { schedule_id?: string; escalation_policy_id?: string }, { client }: Ctx) => {
  const query: Record<string, string | string[]> = { 'include[]': ['users'], limit: String(PAGE) };
  if (a.schedule_id) query['schedule_ids[]'] = [a.schedule_id];
  if (a.escalation_policy_id) query['escalation_policy_ids[]'] = [a.escalation_policy_id];
  const oncalls: RestOncall[] = [];
  for (let offset = 0; offset < MAX_ONCALLS; offset += PAGE) {
    const page = (await client('GET', '/oncalls', { query: { ...query, offset: String(offset) } })) as { oncalls: RestOncall[]; more?: boolean };
    oncalls.push(...page.oncalls);
    if (!page.more) break;
  }
  return {
    oncalls: oncalls.map((o) => ({
      user: { ...ref(o.user), email: o.user.email ?? '' },
      schedule: o.schedule ? ref(o.schedule) : null,
      escalation_policy: ref(o.escalation_policy),
      escalation_level: o.escalation_level,
      start: o.start,
      end: o.end,
    })),
  };
});

export function createPagerDutyExecutor(settings: IntegrationSettings<PagerDutyCredentials>, options: ExecutorOptions = {}): LiveExecutor {
  const retryDelayMs = options.pagerdutyRetryDelayMs ?? 1000;
  return createExecutor({
    vendor: 'pagerduty',
    handlers: {
      'pagerduty.get_incident': get,
      'pagerduty.acknowledge_incident': acknowledge,
      'pagerduty.resolve_incident': resolve,
      'pagerduty.add_note': addNote,
      'pagerduty.create_incident': createIncident,
      'pagerduty.list_oncalls': listOncalls,
    },
    connect: (signal) => pagerdutyClient(settings, retryDelayMs, signal),
    classify: (err) => classifyPagerDutyError(err),
    secrets: [settings.credentials.token],
    retry: { ...DEFAULT_RETRY, ...options.retry },
  });
}
