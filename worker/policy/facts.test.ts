import { describe, expect, it } from 'vitest';
import { factsFor, isTimeZone, nowFacts, targetOf, tenantFacts, unknownTarget } from './facts';

describe('targetOf: the argument that names a call\'s target', () => {
  it.each([
    ['k8s.drain_node', { cluster: 'prod-eu', node: 'n1' }, { kind: 'cluster', name: 'prod-eu' }],
    ['github.rollback_deployment', { repo: 'acme/shop', environment: 'production' }, { kind: 'repository', name: 'acme/shop' }],
    ['jira.create_issue', { project: 'OPS', summary: 's' }, { kind: 'project', name: 'OPS' }],
    ['jira.transition_issue', { key: 'OPS-12', transition: 'Done' }, { kind: 'project', name: 'OPS' }],
    ['pagerduty.create_incident', { service_id: 'PSVC1', title: 't' }, { kind: 'service', name: 'PSVC1' }],
    ['pagerduty.add_note', { incident_id: 'P1', content: 'c' }, { kind: 'none', name: '' }],
    ['core.wait', { duration: '1s' }, { kind: 'none', name: '' }],
  ])('%s', (tool, args, expected) => expect(targetOf(tool, args)).toEqual(expected));

  it('an unknown target has no labels and is neither registered nor live', () => {
    expect(unknownTarget('k8s.cordon_node', { cluster: 'x' })).toEqual({ kind: 'cluster', name: 'x', registered: false, live: false, labels: {} });
  });
});

describe('nowFacts: the server clock in the tenant\'s time zone', () => {
  // Monday 5 January 2026.
  const at = (h: number, m = 0) => Date.UTC(2026, 0, 5, h, m);

  it('default business hours: weekdays 09:00–17:00 UTC', () => {
    const t = tenantFacts();
    expect(nowFacts(at(8, 59), t)).toMatchObject({ business_hours: false, weekday: 'mon', time: '08:59', hour: 8, date: '2026-01-05' });
    expect(nowFacts(at(9), t).business_hours).toBe(true);
    expect(nowFacts(at(16, 59), t).business_hours).toBe(true);
    expect(nowFacts(at(17), t).business_hours).toBe(false);
    expect(nowFacts(Date.UTC(2026, 0, 4, 12), t)).toMatchObject({ weekday: 'sun', business_hours: false });
  });

  it('hours are local to the tenant: 08:30 UTC is 09:30 in Berlin, and Sunday night in New York is still Sunday', () => {
    const berlin = tenantFacts({ time_zone: 'Europe/Berlin' });
    expect(nowFacts(at(8, 30), berlin)).toMatchObject({ time: '09:30', business_hours: true });
    const ny = tenantFacts({ time_zone: 'America/New_York', business_hours: { days: ['mon'], start: '00:00', end: '24:00' } });
    expect(nowFacts(at(3), ny)).toMatchObject({ weekday: 'sun', business_hours: false });
    expect(nowFacts(at(6), ny)).toMatchObject({ weekday: 'mon', time: '01:00', business_hours: true });
  });

  it('a change freeze holds from its start until before its end', () => {
    const t = tenantFacts({ change_freezes: [{ name: 'year-end', start: '2026-01-05T10:00:00Z', end: '2026-01-05T12:00:00+01:00' }] });
    expect(nowFacts(at(9, 59), t)).toMatchObject({ change_freeze: false, change_freeze_name: '' });
    expect(nowFacts(at(10), t)).toMatchObject({ change_freeze: true, change_freeze_name: 'year-end' });
    expect(nowFacts(at(11), t).change_freeze).toBe(false);
  });

  it('facts bundle the target, the tenant\'s schedule and the clock', () => {
    const f = factsFor(unknownTarget('core.wait', {}), {}, at(10));
    expect(f.tenant).toEqual({ time_zone: 'UTC', business_hours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }, change_freezes: [] });
    expect(f.now).toMatchObject({ utc: '2026-01-05T10:00:00.000Z', business_hours: true, change_freeze: false });
  });

  it('time zones: IANA names only', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
