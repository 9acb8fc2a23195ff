// The shapes of the API the UI uses (DESIGN §12). They mirror the Worker's responses; when the API
// publishes its OpenAPI document these should be generated from it instead of written by hand.

export type Role = 'viewer' | 'operator' | 'sre' | 'admin';

/** `GET /me` and `POST /session`: who the session belongs to. */
export interface Session {
  tenant: { id: string; name: string };
  key: { id: string; name: string; role: Role };
}

/** One entry of the API's error body `details`, e.g. `{ path: "inputs.node", message: "Required" }`. */
export interface ErrorDetail {
  path: string;
  message: string;
  line?: number;
}

export interface RunbookSummary {
  id: string;
  name: string;
  description?: string;
  version: number;
  updated_at: string;
  archived: boolean;
}

export type InputType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface RunbookInput {
  type: InputType;
  required?: boolean;
  default?: unknown;
  description?: string;
  enum?: unknown[];
}

export interface RunbookStep {
  id: string;
  tool: string;
  description?: string;
  if?: string;
  with?: Record<string, unknown>;
  approval?: 'required';
}

/** The parsed runbook document (DESIGN §2). */
export interface RunbookDocument {
  apiVersion: string;
  kind: 'Runbook';
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: {
    goal?: string;
    inputs?: Record<string, RunbookInput>;
    steps: RunbookStep[];
  };
}

export interface RunbookVersion {
  version: number;
  created_at: string;
  created_by: string;
}

export interface RunbookDetail {
  id: string;
  name: string;
  description?: string;
  version: number;
  yaml: string;
  spec: RunbookDocument;
  versions: RunbookVersion[];
}

export type RunStatus =
  | 'queued'
  | 'planning'
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'cancelled';

export type StepStatus =
  | 'pending'
  | 'awaiting_approval'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'denied'
  | 'simulated'
  | 'compensated';

export type RunMode = 'execute' | 'dry_run' | 'shadow';

export interface PolicyReason {
  kind: string;
  name: string;
  message: string;
}

export interface Decision {
  effect: 'allow' | 'deny' | 'require_approval';
  reasons: PolicyReason[];
}

export interface Step {
  id: string;
  tool: string;
  status: StepStatus;
  args: Record<string, unknown>;
  result?: unknown;
  /** A message, or an error object with at least a message. */
  error?: unknown;
  decision?: Decision;
  attempts: number;
}

export interface RunSummary {
  id: string;
  /** The runbook's name. */
  runbook: string;
  status: RunStatus;
  mode: RunMode;
  created_at: string;
  ended_at?: string | null;
}

export interface Run extends RunSummary {
  cost_usd: number;
  tokens: number;
  /** Why the run ended the way it did (denied by a rule, cancelled by someone, …). */
  reason?: string | null;
  steps: Step[];
}

/** The run fields every live event carries. */
export type RunPatch = Pick<Run, 'status' | 'cost_usd' | 'tokens'> & Partial<Pick<Run, 'ended_at' | 'reason'>>;

export interface RunEvent {
  type: string;
  ts: string;
  message?: string;
  run: RunPatch;
  step?: Step;
}

/** A message on the live socket (`GET /runs/{id}/live`). */
export type LiveMessage =
  | { type: 'snapshot'; seq?: number; run: Run }
  | { type: 'event'; seq: number; event: RunEvent };

export interface StartRun {
  runbook: string;
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  mode: RunMode;
}

export interface Approval {
  run_id: string;
  runbook: string;
  step_id: string;
  tool: string;
  args: Record<string, unknown>;
  requested_by: string;
  requested_at: string;
}

export interface List<T> {
  items: T[];
}
