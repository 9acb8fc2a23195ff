import type { z } from 'zod';

export type Risk = 'low' | 'medium' | 'high';

/** Which implementation served a call: the simulated world or the vendor's real API. */
export type IntegrationMode = 'simulated' | 'live';

/**
 * The simulated world of one run: a small key/value state that simulated tools read and change
 * (a cordoned node stays cordoned for a later `k8s.get_node`). The run engine persists it with
 * the run, so it survives a restart of the run's Durable Object.
 */
export interface SimWorld {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

export interface ToolCallContext {
  tenantId: string;
  runId: string;
  stepId: string;
  /** `runId:stepId:attempt` — the same key on a retried delivery of the same attempt. */
  idempotencyKey: string;
  /** The step's mark, the same for every attempt (see ToolCall.effectKey); absent, the idempotency key is the mark. */
  effectKey?: string;
  mode: IntegrationMode;
  world: SimWorld;
  signal?: AbortSignal;
}

/** One operation a call would perform, as shown by its dry-run form. */
export interface ToolOperation {
  /** HTTP method or Kubernetes verb, e.g. `POST`, `PATCH`, `EVICT`. */
  method: string;
  /** What it acts on, e.g. `github:acme/api#42`, `k8s:prod-eu/nodes/node-1`. */
  target: string;
  description: string;
}

/** A failure of the tool itself (as opposed to a bug): the engine records it and may retry. */
export class ToolError extends Error {
  constructor(
    message: string,
    /** Whether a retry of the same call may succeed (429, 5xx, timeouts). */
    readonly retryable = false,
    readonly code = 'tool_error',
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

export interface Compensation<A, R> {
  /** The inverse tool, e.g. `k8s.uncordon_node` for `k8s.cordon_node`. */
  tool: string;
  /** Arguments for the inverse call, from the original arguments and result; null when the call changed nothing to undo. */
  args(args: A, result: R): Record<string, unknown> | null;
}

export interface ToolDef<A extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  id: string;
  description: string;
  args: A;
  result: R;
  mutating: boolean;
  risk: Risk;
  compensation?: Compensation<z.infer<A>, z.infer<R>>;
  /** The operations the call would perform, without performing them. */
  dryRun(args: z.infer<A>): ToolOperation[];
  /** Deterministic simulated execution: same arguments and world → same result. */
  simulate(args: z.infer<A>, ctx: ToolCallContext): Promise<z.infer<R>> | z.infer<R>;
}

/** The catalog entry as served by `GET /api/v1/tools`. */
export interface ToolDescriptor {
  id: string;
  namespace: string;
  description: string;
  mutating: boolean;
  risk: Risk;
  compensation: string | null;
  args_schema: Record<string, unknown>;
  result_schema: Record<string, unknown>;
}
