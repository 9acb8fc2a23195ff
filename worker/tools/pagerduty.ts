import { z } from 'zod';
import { defineTool, freeText, op } from './define';
import { UPPER_ALNUM, nextCounter, readEntity, rng, simTime } from './sim';
import type { SimWorld } from './types';

/**
 * PagerDuty tools (REST API v2; writes send the `From` header naming the tenant's PagerDuty
 * user). Risk: acknowledging and notes are low; resolving stops the paging of a possibly live
 * problem, and creating an incident pages people (medium). None has an inverse: PagerDuty cannot
 * un-acknowledge or reopen, and an incident a run opened should outlive the run's failure.
 */

const SITE = 'https://example.pagerduty.com';

/** PagerDuty object ids are short upper-case alphanumerics, e.g. "PXPGF42" or "Q2T2HSK3PVT1YR". */
function pdId(what: string, example: string) {
  return z
    .string()
    .regex(/^[A-Z0-9]{2,20}$/, `must be a PagerDuty ${what} id such as "${example}"`)
    .describe(`The PagerDuty ${what} id, e.g. "${example}".`);
}

const incidentArgs = z.object({ incident_id: pdId('incident', 'Q2T2HSK3PVT1YR') }).strict();
type IncidentRef = z.infer<typeof incidentArgs>;

const reference = z.object({ id: z.string(), summary: z.string() });
const incident = z.object({
  id: z.string(),
  incident_number: z.number().int().positive(),
  title: z.string(),
  status: z.enum(['triggered', 'acknowledged', 'resolved']),
  urgency: z.enum(['high', 'low']),
  html_url: z.string(),
  service: reference,
  assignments: z.array(z.object({ assignee: reference })),
  created_at: z.string(),
});
type Incident = z.infer<typeof incident>;

const PEOPLE = ['Maya Chen', 'Arjun Patel', 'Jo Smith', 'Lucia Garcia', 'Olivia Kim'] as const;

function person(name: string): { id: string; summary: string; email: string } {
  return {
    id: `P${rng('pd-user', name).chars(6, UPPER_ALNUM)}`,
    summary: name,
    email: `${name.toLowerCase().replace(' ', '.')}@example.com`,
  };
}

const incidentKey = (id: string): string => `pagerduty:incident:${id}`;

/** An incident this run has not touched: triggered, assigned, on a plausible service. */
function generatedIncident(id: string): Incident {
  const r = rng('pd-incident', id);
  const { id: userId, summary } = person(r.pick(PEOPLE));
  return {
    id,
    incident_number: r.int(1000, 9999),
    title: r.pick(['High error rate on checkout-api', 'Node NotReady in prod-eu', 'p99 latency above 2s on payments']),
    status: 'triggered',
    urgency: 'high',
    html_url: `${SITE}/incidents/${id}`,
    service: { id: `P${r.chars(6, UPPER_ALNUM)}`, summary: r.pick(['checkout', 'payments', 'platform']) },
    assignments: [{ assignee: { id: userId, summary } }],
    created_at: simTime(-r.int(60_000, 3_600_000)),
  };
}

const readIncident = (world: SimWorld, id: string): Incident => readEntity(world, incidentKey(id), () => generatedIncident(id));

function setStatus(world: SimWorld, id: string, status: Incident['status']): Incident {
  const next = { ...readIncident(world, id), status };
  world.set(incidentKey(id), next);
  return next;
}

const incidentTarget = (a: IncidentRef): string => `pagerduty:incidents/${a.incident_id}`;

const getIncident = defineTool({
  id: 'pagerduty.get_incident',
  description: 'Read an incident: status, urgency, service and assignees.',
  args: incidentArgs,
  result: incident,
  mutating: false,
  risk: 'low',
  dryRun: (a) => [op('GET', incidentTarget(a), 'Read the incident')],
  simulate: (a, { world }) => readIncident(world, a.incident_id),
});

const acknowledgeIncident = defineTool({
  id: 'pagerduty.acknowledge_incident',
  description: 'Acknowledge an incident so escalation stops paging the next responder.',
  args: incidentArgs,
  result: incident.extend({ status: z.literal('acknowledged') }),
  mutating: true,
  risk: 'low',
  dryRun: (a) => [op('PUT', incidentTarget(a), 'Set status=acknowledged')],
  simulate: (a, { world }) => ({ ...setStatus(world, a.incident_id, 'acknowledged'), status: 'acknowledged' as const }),
});

const resolveIncident = defineTool({
  id: 'pagerduty.resolve_incident',
  description: 'Resolve an incident, optionally recording the resolution.',
  args: incidentArgs.extend({
    resolution: freeText().min(1).optional().describe('What fixed it; added to the incident log.'),
  }),
  result: incident.extend({ status: z.literal('resolved'), resolution: z.string().nullable() }),
  mutating: true,
  risk: 'medium',
  dryRun: (a) => [
    op('PUT', incidentTarget(a), `Set status=resolved${a.resolution ? ' with a resolution note' : ''}`),
  ],
  simulate: (a, { world }) => ({
    ...setStatus(world, a.incident_id, 'resolved'),
    status: 'resolved' as const,
    resolution: a.resolution ?? null,
  }),
});

const addNote = defineTool({
  id: 'pagerduty.add_note',
  description: "Add a note to an incident's timeline.",
  args: incidentArgs.extend({ content: freeText().min(1).describe('The note text.') }),
  result: z.object({ id: z.string(), content: z.string(), created_at: z.string(), user: reference }),
  mutating: true,
  risk: 'low',
  dryRun: (a) => [op('POST', `${incidentTarget(a)}/notes`, 'Add a note')],
  simulate: (a, { world }) => {
    const n = nextCounter(world, `pagerduty:notes:${a.incident_id}`, 1);
    const r = rng('pd-note', a.incident_id, n);
    const { id, summary } = person(PEOPLE[0]);
    return { id: `P${r.chars(13, UPPER_ALNUM)}`, content: a.content, created_at: simTime(n * 60_000), user: { id, summary } };
  },
});

const createIncident = defineTool({
  id: 'pagerduty.create_incident',
  description: "Open an incident on a service; it pages the service's escalation policy.",
  args: z
    .object({
      service_id: pdId('service', 'PXPGF42'),
      title: z.string().min(1).max(1024).describe('The incident title.'),
      urgency: z.enum(['high', 'low']).optional().describe("high or low; omitted, the service's default."),
      body: freeText().optional().describe('Details shown in the incident body.'),
    })
    .strict(),
  result: incident.extend({ status: z.literal('triggered') }),
  mutating: true,
  risk: 'medium',
  dryRun: (a) => [
    op('POST', `pagerduty:services/${a.service_id}/incidents`, `Open a ${a.urgency ?? 'default'}-urgency incident "${a.title}"`),
  ],
  simulate: (a, { world }) => {
    const number = nextCounter(world, 'pagerduty:next-incident-number', rng('pd-numbers', a.service_id).int(1000, 9000));
    const id = `Q${rng('pd-new-incident', a.service_id, number).chars(13, UPPER_ALNUM)}`;
    const created: Incident = {
      ...generatedIncident(id),
      incident_number: number,
      title: a.title,
      urgency: a.urgency ?? 'high',
      service: { id: a.service_id, summary: a.service_id },
      created_at: simTime(number * 1000),
    };
    world.set(incidentKey(id), created);
    return { ...created, status: 'triggered' as const };
  },
});

const listOncalls = defineTool({
  id: 'pagerduty.list_oncalls',
  description: 'List who is on call, optionally for one schedule or escalation policy.',
  args: z
    .object({
      schedule_id: pdId('schedule', 'PI7DH85').optional(),
      escalation_policy_id: pdId('escalation policy', 'PT20YPA').optional(),
    })
    .strict(),
  result: z.object({
    oncalls: z.array(
      z.object({
        user: reference.extend({ email: z.string() }),
        schedule: reference.nullable(),
        escalation_policy: reference,
        escalation_level: z.number().int().positive(),
        start: z.string().nullable(),
        end: z.string().nullable(),
      }),
    ),
  }),
  mutating: false,
  risk: 'low',
  dryRun: () => [op('GET', 'pagerduty:oncalls', 'List on-call entries')],
  simulate: (a) => {
    const r = rng('pd-oncalls', a);
    const policyId = a.escalation_policy_id ?? `P${r.chars(6, UPPER_ALNUM)}`;
    const scheduleId = a.schedule_id ?? `P${r.chars(6, UPPER_ALNUM)}`;
    const start = r.int(1, 6) * 86_400_000;
    // Level 1 comes from the schedule; level 2 is a fixed manager with no schedule, as is common.
    return {
      oncalls: [1, 2].map((level) => ({
        user: person(r.pick(PEOPLE)),
        schedule: level === 1 ? { id: scheduleId, summary: 'Primary on-call' } : null,
        escalation_policy: { id: policyId, summary: 'Production escalation' },
        escalation_level: level,
        start: level === 1 ? simTime(-start) : null,
        end: level === 1 ? simTime(7 * 86_400_000 - start) : null,
      })),
    };
  },
});

export const pagerdutyTools = [getIncident, acknowledgeIncident, resolveIncident, addNote, createIncident, listOncalls];
