import { parseDuration } from '../lib/duration';
import { ToolError } from '../tools/types';
import type { CallError } from './types';

/** Refusals by the relay's own checks: the message says the relay refused, and why. */
const REFUSALS = new Set<CallError['code']>(['action_not_allowed', 'namespace_not_allowed', 'cluster_mismatch', 'unknown_action', 'invalid_args', 'unauthenticated']);

/** What an operator can do about a failure, where the relay's message alone does not say. */
const HINTS: Partial<Record<CallError['code'], string>> = {
  unauthenticated: "the relay's token is not the one registered: put the current token into the relay's Secret",
  action_not_allowed: "widen the relay's ALLOWED_ACTIONS if this action should run there",
  namespace_not_allowed: "widen the relay's ALLOWED_NAMESPACES if this namespace should be reachable",
  forbidden: "grant the relay's ServiceAccount the permission (k8s-relay/deploy/rbac.yaml)",
};

/**
 * A failed call as the step's error: the cluster, what happened and the code, so a run shows
 * `relay for cluster "prod-eu" refused k8s.drain_node: … (namespace_not_allowed)` rather than a
 * bare message. Retryability is the relay's (or the hub's) own judgement.
 */
export function toolErrorOf(cluster: string, action: string, e: CallError): ToolError {
  const hint = HINTS[e.code] ? `; ${HINTS[e.code]}` : '';
  let message: string;
  if (e.origin === 'hub') message = `${e.message}${hint}`;
  else if (REFUSALS.has(e.code)) message = `relay for cluster "${cluster}" refused ${action}: ${e.message} (${e.code})${hint}`;
  else message = `cluster "${cluster}": ${action} failed: ${e.message} (${e.code})${hint}`;
  return new ToolError(message, e.retryable, e.code);
}

/** How long a request waits, by default, for a relay to connect before it fails as "not connected". */
export const DEFAULT_CONNECT_WAIT_MS = 30_000;
/** A call with a step timeout gives up on an absent relay this long before the step's own timer fires. */
const CONNECT_WAIT_MARGIN_MS = 250;

/**
 * The connect wait of a call with `timeoutMs` left: the default, but over shortly before the
 * caller's timeout, so a step whose cluster has no relay fails saying so ("relay … is not
 * connected", retryable) rather than with a bare "timed out after N ms" from the step's timer.
 */
export function connectWaitFor(timeoutMs: number | undefined): number | undefined {
  return timeoutMs === undefined ? undefined : Math.min(DEFAULT_CONNECT_WAIT_MS, Math.max(0, timeoutMs - CONNECT_WAIT_MARGIN_MS));
}

/** Without a step timeout a request still needs a deadline: the relay abandons work after it. */
export const DEFAULT_DEADLINE_MS = 10 * 60_000;
/**
 * The most a call without a step timeout may wait. A run's Durable Object awaits the call inside
 * its alarm, and an alarm handler may run for 15 minutes: a longer wait would be cut off anyway.
 */
export const MAX_DEFAULT_DEADLINE_MS = 14 * 60_000;

/**
 * The request's absolute deadline: the step's remaining timeout when it has one; otherwise the
 * default, stretched to cover a drain's own `timeout` argument (plus a minute to wait for the
 * evicted pods to go), within the alarm's limit.
 */
export function deadlineFor(args: Record<string, unknown>, timeoutMs: number | undefined, now: number): number {
  if (timeoutMs !== undefined) return now + Math.max(0, timeoutMs);
  const own = typeof args.timeout === 'string' ? parseDuration(args.timeout) : undefined;
  return now + Math.min(MAX_DEFAULT_DEADLINE_MS, Math.max(DEFAULT_DEADLINE_MS, own !== undefined ? own + 60_000 : 0));
}
