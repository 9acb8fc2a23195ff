// The shapes the UI works with. API answers come from the generated `api-types.ts` (the OpenAPI
// document); what the document cannot say is written here: the runbook format inside `spec`
// (DESIGN §2), the live socket's messages, and endpoints other work is still adding (marked
// "pending": replace them with `Schemas[…]` once the document describes them).
import type { Schemas } from './api-types';

export type { Schemas };

export type Role = Schemas['Me']['key']['role'];
/** `GET /me` and `POST /session`: who the session belongs to. */
export type Session = Schemas['Me'];

/** One entry of the API's error body `details`, e.g. `{ path: "inputs.node", message: "Required" }`. */
export type ErrorDetail = NonNullable<Schemas['Error']['error']['details']>[number];

export interface List<T> {
  items: T[];
}

export type RunbookSummary = Schemas['RunbookSummary'];
export type RunStatus = Schemas['Run']['status'];
export type StepStatus = Schemas['Step']['status'];
export type RunMode = Schemas['Run']['mode'];
export type Decision = Schemas['Decision'];
export type PolicyReason = Decision['reasons'][number];
export type Step = Schemas['Step'];
export type Run = Schemas['Run'];
export type RunSummary = Schemas['RunSummary'];
export type StartRun = Schemas['CreateRun'];
export type Approval = Schemas['PendingApproval'];
export type AuditEntry = Schemas['AuditEntry'];
export type AnalyticsReport = Schemas['AnalyticsReport'];
export type DashboardSummary = Schemas['DashboardSummary'];
export type RunBrief = Schemas['RunBrief'];
export type PolicySummary = Schemas['PolicySummary'];
export type LocatedMessage = Schemas['LocatedMessage'];
export type Integration = Schemas['Integration'];
export type Vendor = Integration['vendor'];
export type AgentTrace = Schemas['AgentTrace'];
export type RunTrace = Schemas['RunTrace'];

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

/** The parsed runbook document (DESIGN §2): the API sends it as a free-form `spec`. */
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

/** `GET /runbooks/{name}` with its `spec` read as the runbook format. */
export type RunbookDetail = Omit<Schemas['Runbook'], 'spec'> & { spec: RunbookDocument };

/** The run fields every live event carries. */
export type RunPatch = Pick<Run, 'status' | 'cost_usd' | 'tokens'> & Partial<Pick<Run, 'ended_at' | 'reason'>>;

export interface RunEvent {
  type: string;
  ts: string;
  message?: string;
  run: RunPatch;
  step?: Step;
}

/** A message on the live socket (`GET /runs/{id}/live`; WebSockets are outside the OpenAPI document). */
export type LiveMessage = { type: 'snapshot'; seq?: number; run: Run } | { type: 'event'; seq: number; event: RunEvent };

// ─── Pending: endpoints from DESIGN §12 that the document does not describe yet ─────────────

/** Pending (`GET /runs/{id}/shadow`): a shadow run compared with the expected plan. */
export interface ShadowReport {
  score?: number;
  summary?: Record<string, number>;
  steps?: ShadowStep[];
  violations?: { step?: string; tool?: string; message: string }[];
}

export interface ShadowStep {
  /** matched, missed, extra, reordered, changed … */
  status?: string;
  kind?: string;
  expected?: { tool: string; args?: unknown } | null;
  actual?: { id?: string; tool: string; args?: unknown } | null;
  differences?: { field?: string; path?: string; expected?: unknown; actual?: unknown }[];
  score?: number;
}

/** Pending (`GET /clusters`, routes not mounted yet): a registered cluster and its relay's connection. */
export interface ClusterStatus {
  name: string;
  /** What policies read as `target.labels` (e.g. environment). */
  labels?: Record<string, string>;
  created_at: string;
  created_by?: string | null;
  /** A relay holds the WebSocket and has said hello. */
  connected: boolean;
  connected_at?: string | null;
  last_seen_at?: string | null;
  disconnected_at?: string | null;
  last_close?: { code: number; reason: string } | null;
  relay_version?: string | null;
  allowlist?: { namespaces: '*' | string[]; actions: string[] } | null;
  health?: { ready: boolean; in_flight: number; uptime_s: number } | null;
  api_server_reachable?: boolean | null;
  pending_requests?: number;
}

/** Pending (`POST /clusters`): the relay's CLUSTER_TOKEN, shown once. */
export interface ClusterCreated {
  name: string;
  token: string;
}

/**
 * An API key as `GET /keys` lists it. The document lost the base fields (two schemas are named
 * "ApiKey"), so they are restated here; drop this once the server names them apart.
 */
export type ApiKeyView = Schemas['ApiKey'] & {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
};

/** Pending (evaluation reports, issue 7). */
export interface EvalReportSummary {
  id: string;
  created_at?: string;
  provider?: string;
  model?: string;
  cases?: number;
  passed?: number;
  metrics?: Record<string, number | null>;
}

export interface EvalReport extends EvalReportSummary {
  results?: { case: string; passed?: boolean; score?: number; [k: string]: unknown }[];
}
