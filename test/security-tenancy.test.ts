import { describe, expect, it } from 'vitest';
import { api, json, newTenant } from './helpers';
import { CASES, ROLES, fixture } from './route-cases';

/**
 * Every route × another tenant's ids × every role: tenant B's keys aimed at tenant A's resources.
 * Nothing of A comes back — a route naming one of A's resources answers 404 (or 403 when the role
 * may not call it at all), and no answer to B, list or error, contains any of A's identifiers.
 */
describe('cross-tenant matrix', () => {
  it('no route leaks another tenant\'s data to any role', async () => {
    const a = await fixture();
    const b = await newTenant();
    const failures: string[] = [];
    const bodies: { route: string; role: string; text: string }[] = [];
    let calls = 0;
    for (const c of CASES) {
      for (const role of ROLES) {
        const call = await c.call(a, role);
        const res = await api(call.path, { method: call.method ?? 'GET', key: b.keys[role], json: call.json, yaml: call.yaml, headers: call.headers });
        calls++;
        const namesA = /\/(run_|pol_|rb_|key_|ten_)/.test(call.path);
        if (res.webSocket) {
          res.webSocket.accept();
          res.webSocket.close(1000, 'done');
          failures.push(`${c.route} as ${role}: B opened a live socket on A's run`);
          continue;
        }
        const text = await res.text();
        bodies.push({ route: c.route, role, text });
        if (res.status >= 500) failures.push(`${c.route} as ${role}: ${res.status}`);
        else if (namesA && res.status !== 404 && res.status !== 403) failures.push(`${c.route} as ${role}: ${res.status} on A's resource (${call.path}): ${text.slice(0, 200)}`);
      }
    }
    // Everything A owns, listed by A itself after the calls above created more of it.
    const aIds = new Set<string>([a.t.id, a.runId, a.policyId, a.runbookId]);
    for (const path of ['/runs?limit=200', '/runbooks?archived=true', '/keys', '/policies', '/people']) {
      const list = await json<{ items: { id: string }[] }>(api(path, { key: a.t.keys.admin }));
      for (const item of list.items) aIds.add(item.id);
    }
    for (const { route, role, text } of bodies) {
      for (const id of aIds) if (text.includes(id)) failures.push(`${route} as ${role}: answer contains A's id ${id}`);
    }
    expect(failures, `${calls} calls`).toEqual([]);
    console.log(`[cross-tenant] ${CASES.length} routes × ${ROLES.length} roles = ${calls} calls with tenant B's keys on A's ids; ${aIds.size} of A's ids sought in every answer; 0 leaks`);
    expect(calls).toBe(CASES.length * ROLES.length);
    expect(aIds.size).toBeGreaterThan(10);
  }, 180_000);
});
