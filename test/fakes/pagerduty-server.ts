import { FakeApi, FakeHttpError, field, json, serve, type RecordedRequest, type Served } from './fake-server';

/**
 * A fake PagerDuty: REST API v2 (incidents, their notes, status changes by PUT, on-calls) and
 * Events API v2 (`POST /v2/enqueue`, de-duplicated by `dedup_key`). REST requires
 * `Authorization: Token token=…` and the v2 Accept header; incident writes require a `From`
 * header naming a user of the account, as PagerDuty does. Events authenticate by routing key.
 */

export interface PagerDutyFakeOptions {
  token: string;
  users?: { id: string; name: string; email: string }[];
  /** Events API integration keys, each routing to a service id. */
  routingKeys?: Record<string, string>;
}

interface Ref {
  id: string;
  type: string;
  summary: string;
}

export interface FakeNote {
  id: string;
  content: string;
  created_at: string;
  user: Ref;
}

export interface FakeIncident {
  id: string;
  incident_number: number;
  title: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  urgency: 'high' | 'low';
  service: Ref;
  incident_key: string | null;
  details: string | null;
  resolution: string | null;
  created_at: string;
  assignments: { assignee: Ref }[];
  notes: FakeNote[];
}

export interface FakeOncall {
  user: string;
  schedule: Ref | null;
  escalation_policy: Ref;
  escalation_level: number;
  start: string | null;
  end: string | null;
}

const DEFAULT_USERS = [
  { id: 'PUSER01', name: 'Maya Chen', email: 'maya.chen@acme.test' },
  { id: 'PUSER02', name: 'Arjun Patel', email: 'arjun.patel@acme.test' },
];

let counter = 0;
let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
const tick = (): string => new Date((clock += 1000)).toISOString().replace('.000', '');
const pdId = (prefix: string): string => `${prefix}${(++counter).toString(36).toUpperCase().padStart(6, '0')}`;

const invalid = (...errors: string[]) => json({ error: { message: 'Invalid Input Provided', code: 2001, errors } }, 400);

export function createPagerDutyFake(options: PagerDutyFakeOptions) {
  const users = options.users ?? DEFAULT_USERS;
  const services = new Map<string, Ref>();
  const incidents = new Map<string, FakeIncident>();
  const oncalls: FakeOncall[] = [];
  const events: unknown[] = [];
  let nextNumber = 1000;

  const userRef = (u: { id: string; name: string }): Ref => ({ id: u.id, type: 'user_reference', summary: u.name });

  const api = new FakeApi({
    authorize: (req) => {
      if (req.path.startsWith('/v2/')) return undefined; // Events API: the routing key is the credential
      if (req.headers.authorization !== `Token token=${options.token}`) {
        return json({ error: { message: 'Unauthorized', code: 2006 } }, 401);
      }
      if (!(req.headers.accept ?? '').includes('application/vnd.pagerduty+json;version=2')) {
        return json({ error: { message: 'Unsupported Accept header', code: 2001 } }, 406);
      }
      return undefined;
    },
    errorBody: (_status, message) => ({ error: { message, code: 2000 } }),
  });

  /** The user a write is made as; PagerDuty refuses incident writes without a valid `From`. */
  function requester(req: RecordedRequest): (typeof users)[number] {
    const from = req.headers.from;
    const user = users.find((u) => u.email === from);
    if (!user) {
      throw new FakeHttpError(400, from ? `Requester User Not Found: ${from}` : 'A valid email address of a user is required in the From header');
    }
    return user;
  }

  function incident(id: string): FakeIncident {
    const found = incidents.get(id);
    if (!found) throw new FakeHttpError(404, 'Not Found');
    return found;
  }

  const incidentJson = (i: FakeIncident) => ({
    id: i.id,
    type: 'incident',
    summary: `[#${i.incident_number}] ${i.title}`,
    incident_number: i.incident_number,
    title: i.title,
    status: i.status,
    urgency: i.urgency,
    incident_key: i.incident_key,
    html_url: `https://acme.pagerduty.test/incidents/${i.id}`,
    service: { ...i.service, type: 'service_reference' },
    assignments: i.status === 'resolved' ? [] : i.assignments,
    created_at: i.created_at,
    body: i.details ? { type: 'incident_body', details: i.details } : undefined,
  });

  type OpenFields = Pick<FakeIncident, 'title' | 'service'> & Partial<Pick<FakeIncident, 'urgency' | 'incident_key' | 'details'>>;

  function open(fields: OpenFields): FakeIncident {
    const i: FakeIncident = {
      id: pdId('Q'),
      incident_number: ++nextNumber,
      status: 'triggered',
      urgency: fields.urgency ?? 'high',
      incident_key: fields.incident_key ?? null,
      details: fields.details ?? null,
      resolution: null,
      created_at: tick(),
      assignments: [{ assignee: userRef(users[0]!) }],
      notes: [],
      title: fields.title,
      service: fields.service,
    };
    incidents.set(i.id, i);
    return i;
  }

  const openWithKey = (serviceId: string, key: string): FakeIncident | undefined =>
    [...incidents.values()].find((i) => i.service.id === serviceId && i.incident_key === key && i.status !== 'resolved');

  /** PagerDuty lists 25 by default; `more` says whether another page follows. */
  function page<T>(req: RecordedRequest, name: string, all: T[]): Response {
    const limit = Number(req.query.get('limit') ?? 25);
    const offset = Number(req.query.get('offset') ?? 0);
    return json({ [name]: all.slice(offset, offset + limit), limit, offset, more: offset + limit < all.length, total: null });
  }

  api
    .on('GET', '/incidents', (req) => {
      const key = req.query.get('incident_key');
      const serviceIds = req.query.getAll('service_ids[]');
      const statuses = req.query.getAll('statuses[]');
      const list = [...incidents.values()].filter(
        (i) =>
          (key === null || i.incident_key === key) &&
          (!serviceIds.length || serviceIds.includes(i.service.id)) &&
          (!statuses.length || statuses.includes(i.status)),
      );
      return page(req, 'incidents', list.map(incidentJson));
    })
    .on('POST', '/incidents', (req) => {
      requester(req);
      const body = field<Record<string, unknown>>(req.body, 'incident');
      if (field(body, 'type') !== 'incident') return invalid('incident type must be "incident"');
      const title = field<string>(body, 'title');
      if (!title) return invalid('Title cannot be empty');
      const service = services.get(field<string>(body, 'service', 'id') ?? '');
      if (!service || field(body, 'service', 'type') !== 'service_reference') return invalid('Service not found');
      const urgency = field<'high' | 'low'>(body, 'urgency');
      if (urgency !== undefined && urgency !== 'high' && urgency !== 'low') return invalid('Urgency must be high or low');
      const key = field<string>(body, 'incident_key') ?? null;
      if (key !== null && openWithKey(service.id, key)) return invalid('Open incident with matching dedup key already exists on this service');
      const i = open({ title, service, urgency, incident_key: key, details: field<string>(body, 'body', 'details') ?? null });
      return json({ incident: incidentJson(i) }, 201);
    })
    .on('GET', '/incidents/:id', (_req, p) => json({ incident: incidentJson(incident(p.id!)) }))
    .on('PUT', '/incidents/:id', (req, p) => {
      requester(req);
      const i = incident(p.id!);
      const body = field<Record<string, unknown>>(req.body, 'incident');
      if (field(body, 'type') !== 'incident_reference') return invalid('incident type must be "incident_reference"');
      const status = field<string>(body, 'status');
      if (status !== undefined) {
        if (status !== 'acknowledged' && status !== 'resolved') return invalid(`Status "${status}" is not valid`);
        if (i.status === 'resolved') return invalid('Incident Already Resolved');
        i.status = status;
        if (status === 'resolved') i.resolution = field<string>(body, 'resolution') ?? null;
      }
      return json({ incident: incidentJson(i) });
    })
    .on('GET', '/incidents/:id/notes', (_req, p) => json({ notes: incident(p.id!).notes }))
    .on('POST', '/incidents/:id/notes', (req, p) => {
      const user = requester(req);
      const i = incident(p.id!);
      const content = field<string>(req.body, 'note', 'content');
      if (!content) return invalid('Note content cannot be empty');
      const note: FakeNote = { id: pdId('PNOTE'), content, created_at: tick(), user: userRef(user) };
      i.notes.push(note);
      return json({ note: { ...note, channel: { summary: 'The PagerDuty website or APIs' } } }, 201);
    })
    .on('GET', '/oncalls', (req) => {
      const schedules = req.query.getAll('schedule_ids[]');
      const policies = req.query.getAll('escalation_policy_ids[]');
      const withUsers = req.query.getAll('include[]').includes('users');
      const list = oncalls
        .filter((o) => !schedules.length || (o.schedule !== null && schedules.includes(o.schedule.id)))
        .filter((o) => !policies.length || policies.includes(o.escalation_policy.id))
        .map((o) => {
          const u = users.find((x) => x.id === o.user)!;
          const user = withUsers ? { id: u.id, type: 'user', summary: u.name, name: u.name, email: u.email } : userRef(u);
          return { ...o, user };
        });
      return page(req, 'oncalls', list);
    })
    .on('POST', '/v2/enqueue', (req) => {
      events.push(req.body);
      const routingKey = field<string>(req.body, 'routing_key') ?? '';
      const action = field<string>(req.body, 'event_action');
      const serviceId = options.routingKeys?.[routingKey];
      const problems = [
        ...(serviceId ? [] : ['Invalid routing key']),
        ...(['trigger', 'acknowledge', 'resolve'].includes(action ?? '') ? [] : ["'event_action' is invalid"]),
      ];
      const dedupKey = field<string>(req.body, 'dedup_key') ?? (action === 'trigger' ? pdId('DEDUP') : undefined);
      if (action === 'trigger' && !field(req.body, 'payload', 'summary')) problems.push("'payload.summary' is missing or blank");
      if (action !== 'trigger' && !dedupKey) problems.push("'dedup_key' is required for acknowledge and resolve");
      if (problems.length) return json({ status: 'invalid event', message: 'Event object is invalid', errors: problems }, 400);
      const existing = openWithKey(serviceId!, dedupKey!);
      if (action === 'trigger' && !existing) {
        const severity = field<string>(req.body, 'payload', 'severity');
        open({
          title: field<string>(req.body, 'payload', 'summary')!,
          service: services.get(serviceId!)!,
          incident_key: dedupKey,
          urgency: severity === 'info' || severity === 'warning' ? 'low' : 'high',
        });
      } else if (existing && action !== 'trigger') {
        existing.status = action === 'resolve' ? 'resolved' : 'acknowledged';
      }
      return json({ status: 'success', message: 'Event processed', dedup_key: dedupKey }, 202);
    });

  return {
    handler: api.handler,
    requests: api.requests,
    fail: api.fail.bind(api),
    writes: api.writes.bind(api),
    incidents,
    events,
    users,
    addService(id: string, name: string): Ref {
      const s = { id, type: 'service', summary: name };
      services.set(id, s);
      return s;
    },
    addIncident(serviceId: string, title: string, status: FakeIncident['status'] = 'triggered'): FakeIncident {
      const i = open({ title, service: services.get(serviceId) ?? { id: serviceId, type: 'service', summary: serviceId } });
      i.status = status;
      return i;
    },
    addOncall(oncall: FakeOncall): void {
      oncalls.push(oncall);
    },
  };
}

export type PagerDutyFake = ReturnType<typeof createPagerDutyFake>;

export async function startPagerDutyServer(options: PagerDutyFakeOptions): Promise<PagerDutyFake & Served> {
  const fake = createPagerDutyFake(options);
  return { ...fake, ...(await serve(fake.handler)) };
}
