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

/**
 * The longest any relay call may run, whatever the caller's timeout. A run's Durable Object awaits
 * the call inside its alarm, and an alarm handler is cut off after 15 minutes: the call must end,
 * answered or not, well before that (the hub adds DEADLINE_GRACE_MS, the backend its own margin).
 * A drain's own `timeout` argument is bounded by it too: the relay stops at the request's deadline.
 */
export const MAX_RELAY_CALL_MS = 10 * 60_000;
/** Without a step timeout a request still needs a deadline: the relay abandons work after it. */
export const DEFAULT_DEADLINE_MS = 10 * 60_000;
/** How long after a request's deadline the hub waits for the relay's own `deadline_exceeded` answer. */
export const DEADLINE_GRACE_MS = 2_000;

/** The request's absolute deadline: the step's remaining timeout (or the default), capped at MAX_RELAY_CALL_MS. */
export function deadlineFor(timeoutMs: number | undefined, now: number): number {
  return now + Math.min(MAX_RELAY_CALL_MS, Math.max(0, timeoutMs ?? DEFAULT_DEADLINE_MS));
}
