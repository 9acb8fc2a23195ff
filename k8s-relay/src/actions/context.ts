import type { Allowlist } from '../allowlist';
import type { Kube } from '../kube';
import type { Logger } from '../log';
import type { K8sAction, Operation } from '../../contract/protocol';

/** Progress of one idempotency key that survives a relay restart (drain's evictions so far). */
export interface Progress {
  get<T>(): T | undefined;
  /** Resolves once the progress is durable (written to the idempotency file, when there is one). */
  set(value: unknown): Promise<void>;
}

/** What an action gets besides its arguments: one per request. */
export interface ActionContext {
  kube: Kube;
  cluster: string;
  /** Perform reads, send writes with `dryRun=All` (validated, not persisted), and report them. */
  dryRun: boolean;
  /**
   * The same for every attempt of one run step (the request's `effect_key`, else its idempotency
   * key): what an action that is not naturally idempotent marks its effect with in the cluster.
   */
  effectKey: string;
  /** Unix ms after which the hub no longer waits; `signal` aborts at the same moment. */
  deadline: number;
  /** Aborts at the deadline or when the hub cancels; API calls take it, multi-step actions check it between steps. */
  signal: AbortSignal;
  allowlist: Allowlist;
  /** The relay's own pod, never evicted by a drain of its node. */
  self: { namespace: string; name: string } | null;
  log: Logger;
  progress: Progress;
  /** Records a write, performed or (dry run) validated; returned in the response's `operations`. */
  record(op: Operation): void;
  /** How long to wait between eviction retries and deletion checks. */
  pollIntervalMs: number;
  now(): number;
  /** Waits `ms`, rejecting when `signal` aborts. */
  sleep(ms: number): Promise<void>;
}

/**
 * One k8s tool, as the relay executes it. Arguments arrive already validated with the tool's
 * own schema from the catalog; the result is checked against the tool's result schema after.
 */
export interface Action {
  id: K8sAction;
  run(args: never, ctx: ActionContext): Promise<unknown>;
}

/** Declares an action with typed arguments and widens it for the registry. */
export function defineAction<A>(id: K8sAction, run: (args: A, ctx: ActionContext) => Promise<unknown>): Action {
  return { id, run: run as (args: never, ctx: ActionContext) => Promise<unknown> };
}

/** `dryRun=All` on writes when the request is a dry run. */
export function dryRunParam(ctx: ActionContext): 'All' | undefined {
  return ctx.dryRun ? 'All' : undefined;
}
