import { env, exports } from 'cloudflare:workers';
import { createApiKey } from '../worker/auth/keys';
import { makeDb } from '../worker/db/client';
import type { Role } from '../worker/env';
import { createTenant } from '../worker/store/tenants';

export const BASE = 'http://agentrunbook.test/api/v1';

/** Calls the Worker like a client would: through its fetch handler. */
export function api(path: string, init: RequestInit & { key?: string; json?: unknown; yaml?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  } else if (init.yaml !== undefined) {
    headers.set('content-type', 'application/yaml');
    body = init.yaml;
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { ...init, headers, body }));
}

export async function json<T = Record<string, unknown>>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

export interface TestTenant {
  id: string;
  keys: Record<Role, string>;
}

/**
 * Waits until the tenant's audit log has copied what it committed to D1 (the copy follows the
 * appends' answers): for a test that reads or changes audit_log in D1 itself.
 */
export async function settleAudit(tenantId: string): Promise<void> {
  await env.AUDIT.get(env.AUDIT.idFromName(tenantId)).settle();
}

let counter = 0;

/** A fresh tenant (default policy active) with one key per role; every test gets its own. */
export async function newTenant(): Promise<TestTenant> {
  const db = makeDb(env.DB);
  const t = await createTenant(db, { name: `test-${++counter}-${Math.random().toString(36).slice(2, 8)}`, createdBy: 'test', platformOwner: true });
  const keys = { admin: t.admin_key } as Record<Role, string>;
  for (const role of ['viewer', 'operator', 'sre'] as const) {
    keys[role] = (await createApiKey(db, { tenantId: t.id, name: role, role, createdBy: 'test' })).key;
  }
  return { id: t.id, keys };
}

/** Changes a test made to this isolate (env bindings, globalThis.fetch); `undoAll` reverts them. */
const undoStack: Array<() => void> = [];

export function onUndo(fn: () => void): void {
  undoStack.push(fn);
}

/** Reverts every change registered with `onUndo`, newest first (call it in `afterEach`). */
export function undoAll(): void {
  while (undoStack.length > 0) undoStack.pop()!();
}

/** Sets bindings of the test Worker's env until `undoAll`. */
export function setEnv(values: Record<string, string>): void {
  const vars = env as unknown as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(values)) {
    const before = vars[name];
    vars[name] = value;
    onUndo(() => {
      if (before === undefined) delete vars[name];
      else vars[name] = before;
    });
  }
}
