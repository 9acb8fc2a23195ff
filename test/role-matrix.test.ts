import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';
import { CASES, PUBLIC, ROLES, UNDOCUMENTED, fixture } from './route-cases';

/**
 * Every route × every role → the status the default policy gives: 2xx where the role may, 403
 * where it may not. The table must name every route the API serves (checked against the OpenAPI
 * document), so a new route cannot ship without a decision about who may call it.
 */
describe('role × route matrix (default policy)', () => {
  it('the table covers every route of the API, and only those', async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(api('/openapi.json'));
    const served = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const covered = new Set(CASES.map((c) => c.route));
    expect(served.filter((r) => !covered.has(r) && !PUBLIC.has(r)), 'routes without a role decision').toEqual([]);
    expect([...covered].filter((r) => !served.includes(r) && !UNDOCUMENTED.has(r)), 'table rows for routes that do not exist').toEqual([]);
  });

  it('every route answers 2xx to the roles allowed and 403 to the others', async () => {
    const f = await fixture();
    const failures: string[] = [];
    const table: string[] = [];
    for (const c of CASES) {
      const row: string[] = [];
      for (const role of ROLES) {
        const call = await c.call(f, role);
        const res = await api(call.path, { method: call.method ?? 'GET', key: f.t.keys[role], json: call.json, yaml: call.yaml, headers: call.headers });
        const allowed = c.allowed.includes(role);
        const ok = allowed
          ? c.allowedStatus !== undefined
            ? res.status === c.allowedStatus
            : (res.status >= 200 && res.status < 300) || res.status === 101
          : res.status === 403;
        row.push(`${role}=${res.status}`);
        if (!ok) failures.push(`${c.route} as ${role}: expected ${allowed ? c.allowedStatus ?? '2xx' : '403'}, got ${res.status} ${await res.text().catch(() => '')}`);
        if (res.webSocket) {
          res.webSocket.accept();
          res.webSocket.close(1000, 'done');
        } else if (!res.bodyUsed) await res.body?.cancel();
      }
      table.push(`${c.route.padEnd(44)} ${row.join('  ')}`);
    }
    expect(failures, table.join('\n')).toEqual([]);
    console.log(`[role matrix] ${CASES.length} routes × ${ROLES.length} roles = ${CASES.length * ROLES.length} calls, each 2xx or 403 as the default policy says`);
  }, 120_000);

  it('unauthenticated calls to every non-public route get 401', async () => {
    const f = await fixture();
    for (const c of CASES) {
      const call = await c.call(f, 'admin');
      const res = await api(call.path, { method: call.method ?? 'GET', json: call.json, yaml: call.yaml, headers: call.headers });
      expect(res.status, c.route).toBe(401);
    }
  }, 60_000);
});
