import { randomUUID } from 'node:crypto';
import { Allowlist } from '../src/allowlist';
import { Executor } from '../src/executor';
import { IdempotencyStore } from '../src/idempotency';
import { makeKube } from '../src/kube';
import { silentLogger } from '../src/log';
import { K8S_ACTIONS, deriveSigningKey, signCancel, signRequest } from '../contract/protocol';
import type { K8sAction, ResponseMessage } from '../contract/protocol';
import { FakeApiServer } from './fake-apiserver';

export const CLUSTER = 'prod-eu';
export const TOKEN = 'arc_test_cluster_token_0123456789abcdef';

export interface Harness {
  api: FakeApiServer;
  executor: Executor;
  store: IdempotencyStore;
  /** Sends one signed request through the executor, as the hub would. */
  send(action: string, args: Record<string, unknown>, opts?: SendOptions): Promise<ResponseMessage>;
  /** Sends a signed cancel for request `id` through the executor, as the hub would. */
  cancel(id: string, key: string, opts?: { token?: string }): Promise<void>;
  /** A fresh executor and store over the same API server and file: a relay restart. */
  restart(): Promise<void>;
}

export interface SendOptions {
  /** The request (delivery) id; a fresh one by default. */
  id?: string;
  key?: string;
  /** The step's effect key; absent, the request carries none (as from an older hub). */
  effectKey?: string;
  dryRun?: boolean;
  deadlineMs?: number;
  /** Sign with another token (a forged or stale request). */
  token?: string;
}

export interface HarnessOptions {
  namespaces?: '*' | string[];
  actions?: K8sAction[];
  file?: string | null;
  pollIntervalMs?: number;
  self?: { namespace: string; name: string } | null;
  api?: FakeApiServer;
}

/** A fake API server and an executor wired to it the way startRelay wires them. */
export async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const api = opts.api ?? (await FakeApiServer.start());
  const signingKey = await deriveSigningKey(TOKEN);
  const build = async () => {
    const store = await IdempotencyStore.open({ file: opts.file ?? null, ttlMs: 3_600_000, maxEntries: 100, log: silentLogger });
    const executor = new Executor({
      cluster: CLUSTER,
      signingKey,
      allowlist: new Allowlist(opts.namespaces ?? '*', opts.actions ?? [...K8S_ACTIONS]),
      store,
      kube: makeKube(api.kubeConfig()),
      log: silentLogger,
      self: opts.self ?? null,
      pollIntervalMs: opts.pollIntervalMs ?? 20,
    });
    return { store, executor };
  };
  const h = { api, ...(await build()) } as Harness;
  h.send = async (action, args, o = {}) => {
    const key = o.token === undefined ? signingKey : await deriveSigningKey(o.token);
    const req = await signRequest(key, CLUSTER, {
      type: 'request',
      id: o.id ?? randomUUID(),
      idempotency_key: o.key ?? `run_test:step:${randomUUID()}`,
      ...(o.effectKey !== undefined ? { effect_key: o.effectKey } : {}),
      action,
      args,
      ...(o.dryRun ? { dry_run: true } : {}),
      deadline_ms: Date.now() + (o.deadlineMs ?? 10_000),
    });
    return h.executor.handle(req);
  };
  h.cancel = async (id, key, o = {}) => {
    const signWith = o.token === undefined ? signingKey : await deriveSigningKey(o.token);
    await h.executor.cancel(await signCancel(signWith, CLUSTER, { type: 'cancel', id, idempotency_key: key }));
  };
  h.restart = async () => {
    await h.store.flush();
    Object.assign(h, await build());
  };
  return h;
}

/** The result of a successful response (fails the test with the error otherwise). */
export function resultOf<T = Record<string, unknown>>(res: ResponseMessage): T {
  if (!res.ok) throw new Error(`expected success, got ${res.error.code}: ${res.error.message}`);
  return res.result as T;
}

export function errorOf(res: ResponseMessage) {
  if (res.ok) throw new Error(`expected a failure, got ${JSON.stringify(res.result)}`);
  return res.error;
}

/** Polls `check` (sync or async) until it returns a truthy value, or fails after `ms`. */
export async function eventually<T>(check: () => T | Promise<T>, ms = 5000): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
