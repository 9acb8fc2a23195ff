import type { HealthMessage, HelloMessage, Operation, RelayErrorBody } from '../../k8s-relay/contract/protocol';

/**
 * Headers the connect route sets on the upgrade it hands to the cluster's Durable Object, after
 * authenticating the relay's token (whatever the relay itself sent under these names is replaced).
 */
export const CONNECT_HEADERS = { tenant: 'x-agentrunbook-tenant', cluster: 'x-agentrunbook-cluster', tokenHash: 'x-agentrunbook-token-hash' } as const;

/** One k8s tool call handed to a cluster's Durable Object (`ClusterDO.call`). */
export interface ClusterCall {
  tenantId: string;
  cluster: string;
  /** A k8s tool id, e.g. `k8s.drain_node`. */
  action: string;
  /** The tool's arguments, already parsed with its schema. */
  args: Record<string, unknown>;
  /** `runId:stepId:attempt`: a second call with the same key attaches to the first one. */
  idempotencyKey: string;
  /** `runId:stepId`, the same for every attempt of the step: what the relay marks a restart with. */
  effectKey?: string;
  dryRun?: boolean;
  /** Absolute, Unix ms: the relay abandons the request after it, and so does the hub. */
  deadlineMs: number;
  /**
   * How long a request may wait for a relay to connect before it fails as "not connected"
   * (bounded by the deadline). Once a request has reached a relay, it waits until the deadline.
   */
  connectWaitMs?: number;
}

/**
 * Hub-side failures, beside the relay's own error codes: the cluster is not registered (or was
 * revoked), no relay connected in time, the request reached a relay that then went silent, or its
 * caller cancelled it.
 */
export type HubErrorCode = 'not_registered' | 'revoked' | 'relay_not_connected' | 'idempotency_conflict' | 'deadline_exceeded' | 'invalid_request' | 'cancelled';

export interface CallError {
  code: RelayErrorBody['code'] | HubErrorCode;
  message: string;
  retryable: boolean;
  /** Who said it: the relay (its message names the object, not the cluster) or the hub. */
  origin: 'relay' | 'hub';
}

/** What `ClusterDO.call` answers: errors are values, so they cross the RPC boundary intact. */
export type CallOutcome =
  | { ok: true; result: unknown; operations: Operation[]; dry_run: boolean; replayed: boolean }
  | { ok: false; error: CallError; replayed?: boolean };

/** What the hub knows about a cluster's relay (`ClusterDO.status`), as `GET /clusters` shows it. */
export interface RelayStatus {
  /** A relay holds the WebSocket and has said hello. */
  connected: boolean;
  connected_at: string | null;
  /** The last frame (or auto-answered ping) from the relay. */
  last_seen_at: string | null;
  disconnected_at: string | null;
  last_close: { code: number; reason: string } | null;
  relay_version: string | null;
  protocol: number | null;
  allowlist: HelloMessage['allowlist'] | null;
  capabilities: Pick<HelloMessage['capabilities'], 'actions' | 'dry_run' | 'max_log_lines' | 'signed_requests'> | null;
  last_hello_at: string | null;
  health: Omit<HealthMessage, 'type'> | null;
  last_health_at: string | null;
  /** From the last health report; null before the first one. */
  api_server_reachable: boolean | null;
  /** Requests sent (or waiting to be sent) and not answered yet. */
  pending_requests: number;
}
