/** A runbook as stored after validation (DESIGN §2). Durations are normalised to milliseconds. */
export interface RunbookInput {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  required: boolean;
  default?: unknown;
  description?: string;
  enum?: unknown[];
}

export interface RunbookTrigger {
  source: 'github' | 'pagerduty' | 'alertmanager' | 'generic';
  when: string;
  inputs: Record<string, string>;
}

export type OnFailure = 'compensate' | 'continue' | 'abort';

export interface RunbookStep {
  id: string;
  tool: string;
  description?: string;
  if?: string;
  with: Record<string, unknown>;
  /** `required`: a human approves this step whatever the policy says. */
  approval?: 'required';
  retry: { attempts: number; backoff_ms: number };
  timeout_ms?: number;
  verify?: { tool: string; with?: Record<string, unknown>; expect: string };
  /** Resolved default: `compensate` for mutating tools, `abort` otherwise. */
  on_failure: OnFailure;
}

export interface Runbook {
  apiVersion: 'agentrunbook/v1';
  kind: 'Runbook';
  metadata: { name: string; description?: string; labels: Record<string, string> };
  spec: {
    goal?: string;
    inputs: Record<string, RunbookInput>;
    triggers: RunbookTrigger[];
    steps: RunbookStep[];
  };
}

/** A validation problem, located in the YAML source. */
export interface SourceError {
  /** Dotted path with indices, e.g. `spec.steps[2].tool`. */
  path: string;
  /** 1-based line in the YAML text, when it can be located. */
  line?: number;
  message: string;
}
