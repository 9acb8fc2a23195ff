// Generated from the API's OpenAPI document by web/scripts/gen-api-types.mjs: do not edit.
// Regenerate after changing an API schema: `node web/scripts/gen-api-types.mjs` (npm run gen:api).
/* eslint-disable */

/** The named schemas of the API (`components.schemas`). */
export interface Schemas {
  Error: {
    error: {
      code: string;
      message: string;
      details?: Array<{
        path: string;
        message: string;
        line?: number;
      }>;
    };
    request_id: string;
  };
  Me: {
    tenant: {
      id: string;
      name: string;
    };
    key: {
      id: string;
      name: string;
      role: "viewer" | "operator" | "sre" | "admin";
    };
    actor: {
      type: "api_key" | "user" | "webhook";
      id: string;
    };
    /** The person behind the credential (DESIGN §14): a key's owner, or the signed-in person */
    person?: string;
    session?: {
      id: string;
      kind: "api_key" | "oidc";
      expires_at: string;
    };
    /** Present for people signed in with OIDC */
    user?: {
      issuer: string;
      subject: string;
      email?: string;
      name?: string;
      groups: string[];
    };
  };
  SessionState: {
    signed_in: boolean;
    me?: Schemas["Me"] & unknown;
    /** Why a cookie the browser sent no longer signs it in */
    reason?: string;
  };
  WebhookDelivery: {
    delivery: string;
    /** True when this delivery id was received before: nothing new was started */
    duplicate: boolean;
    /** Runs the delivery started */
    runs: string[];
    matches: Array<{
      runbook: string;
      trigger: number;
      run?: string;
      error?: string;
    }>;
  };
  TenantCreated: {
    id: string;
    name: string;
    admin_key: string;
  };
  ApiKey: {
    id: string;
    name: string;
    role: "viewer" | "operator" | "sre" | "admin";
    prefix: string;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
    /** A rotated key stops working at this time */
    expires_at: string | null;
    /** The key this one replaced */
    rotated_from: string | null;
    /** The person the key belongs to (DESIGN §14): an email, an OIDC `iss|sub`, or `key:<id>` for a key made before owners were recorded */
    owner: string;
  };
  RotatedKey: {
    id: string;
    key: string;
    name: string;
    role: "viewer" | "operator" | "sre" | "admin";
    /** Kept from the rotated key */
    owner: string;
    rotated_from: string;
    old_key_expires_at: string;
  };
  Person: {
    /** The person as duties compare them: their email, an OIDC `iss|sub`, or `key:<id>` for a key made before owners were recorded */
    id: string;
    email: string | null;
    name: string | null;
    role: "viewer" | "operator" | "sre" | "admin" | null;
    /** Where the role comes from: their identity provider groups, an admin (PUT /people), or the highest of their live keys */
    role_source: "oidc_groups" | "assigned" | "keys" | null;
    /** The OIDC `iss|sub` they last signed in as */
    oidc_subject: string | null;
    /** Their live API keys */
    keys: number;
    last_seen_at: string | null;
  };
  TenantSettings: {
    oidc?: {
      issuer: string;
      client_id: string;
      /** Whether a client secret is stored; the secret itself is never returned */
      client_secret_set: boolean;
      token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post" | "none";
      scopes: string[];
      groups_claim: string;
      role_mapping: Record<string, "viewer" | "operator" | "sre" | "admin">;
      default_role?: "viewer" | "operator" | "sre" | "admin";
      /** Read-only: register this redirect URI with the identity provider */
      redirect_uri: string;
      /** Read-only: where people start signing in */
      login_url: string;
    };
    rate_limit?: {
      requests_per_minute: number;
      burst?: number;
    };
    /** IANA time zone of business hours and of `now` in policies (default UTC) */
    time_zone?: string;
    /** `now.business_hours` in policies (default mon–fri 09:00–17:00) */
    business_hours?: {
      days: Array<"mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun">;
      start: string;
      end: string;
    };
    /** `now.change_freeze` in policies */
    change_freezes?: Array<{
      name: string;
      start: string;
      end: string;
      reason?: string;
    }>;
  };
  ResealReport: {
    /** Stored secrets looked at (integration credentials and webhook secrets, cluster signing keys, OIDC client secrets) */
    checked: number;
    /** Sealed again with SECRETS_KEY: they opened only with SECRETS_KEY_PREVIOUS */
    resealed: number;
    /** Opened by neither key: their owners must enter them again. Empty: SECRETS_KEY_PREVIOUS can be deleted */
    unreadable: Array<{
      tenant_id: string;
      what: string;
      fix: string;
    }>;
  };
  Integration: {
    vendor: "github" | "jira" | "pagerduty" | "alertmanager" | "generic";
    mode: "simulated" | "live";
    base_url: string | null;
    credentials_set: boolean;
    webhook_secret_set: boolean;
    /** During a webhook secret rotation, when the old secret stops working */
    previous_secret_valid_until: string | null;
    /** Where the vendor sends its webhooks */
    webhook_url: string;
    run_as_role: "viewer" | "operator" | "sre" | "admin";
    /** Labels per repository, project or service: `target.labels` in policies */
    target_labels: Record<string, Record<string, string>>;
    updated_at: string | null;
  };
  ConnectionCheck: {
    ok: boolean;
    identity?: string;
    message: string;
    latency_ms: number;
  };
  CreatedDocument: {
    id: string;
    name: string;
    version: number;
  };
  RunbookValidation: {
    ok: true;
    name: string;
  };
  RunbookSummary: {
    id: string;
    name: string;
    description: string | null;
    version: number;
    updated_at: string;
    archived: boolean;
  };
  Runbook: Schemas["RunbookSummary"] & ({
    yaml: string;
    spec: Record<string, unknown>;
    versions: Array<{
      version: number;
      created_at: string;
      created_by: string | null;
    }>;
  });
  CreateRun: {
    /** Runbook name or id */
    runbook: string;
    inputs?: Record<string, unknown>;
    context?: Record<string, unknown>;
    mode?: "execute" | "dry_run" | "shadow";
    /** Shadow mode: the plan a person would run, compared with the agent's (GET /runs/{id}/shadow) */
    expected?: Array<{
      tool: string;
      args?: Record<string, unknown>;
    }>;
    /** Shadow mode: compare with a finished run (its calls, in order) */
    reference_run?: string;
  };
  RunSummary: {
    id: string;
    runbook: string;
    runbook_version: number;
    status: string;
    mode: string;
    reason: string | null;
    actor: {
      type: string;
      id: string;
      person?: string;
    };
    created_at: string;
    ended_at: string | null;
  };
  Run: {
    id: string;
    runbook: string;
    runbook_version: number;
    status: "queued" | "planning" | "running" | "awaiting_approval" | "succeeded" | "failed" | "denied" | "cancelled";
    mode: "execute" | "dry_run" | "shadow";
    reason?: string;
    inputs: Record<string, unknown>;
    context: Record<string, unknown>;
    /** Who started the run: the credential, and the person behind it */
    actor: {
      type: string;
      id: string;
      /** The person who started the run (DESIGN §14) */
      person?: string;
    };
    created_at: string;
    ended_at?: string;
    cost_usd: number;
    tokens: number;
    steps: Schemas["Step"][];
    /** What agents proposed that was refused or corrected; never executed */
    hallucinations?: Schemas["Hallucination"][];
    /** Steps whose undoing failed for good: a person must look; POST /runs/{id}/compensate retries */
    compensation_failed?: string[];
  };
  Step: {
    id: string;
    tool: string;
    status: "pending" | "awaiting_approval" | "running" | "succeeded" | "failed" | "skipped" | "denied" | "simulated" | "compensated";
    args: Record<string, unknown> | null;
    result?: unknown;
    result_ref?: Schemas["ResultRef"];
    error?: string;
    /** Cancelled while its call was in flight: whether it acted is unknown */
    outcome_unknown?: true;
    decision?: Schemas["Decision"];
    attempts: number;
    compensation?: Schemas["Compensation"];
    integration_mode?: "simulated" | "live";
    approvals: Array<Record<string, unknown>>;
    /** The planner's reason for the step */
    plan?: {
      reason: string;
      /** The planner added this read-only step to the runbook's own */
      added: boolean;
    };
  };
  /** A large result kept out of line: GET /runs/{id}/steps/{step}/result returns the whole */
  ResultRef: {
    /** The idempotency key of the call that returned it */
    key: string;
    bytes: number;
    sha256: string;
    /** The first characters of the result's JSON */
    preview: string;
    truncated: true;
  };
  Decision: {
    effect: "allow" | "deny" | "require_approval";
    reasons: Array<{
      kind: string;
      name: string;
      effect: string;
      message: string;
    }>;
    approval?: {
      roles: string[];
      count: number;
      distinct_from_requester: boolean;
      expires_in?: string;
    };
    /** The trusted facts the decision rested on (`target`, `tenant`, `now` in policies); context is not among them */
    facts?: {
      target: Record<string, unknown>;
      tenant: Record<string, unknown>;
      now: Record<string, unknown>;
    };
  };
  Compensation: {
    tool: string;
    args: Record<string, unknown> | null;
    status: "pending" | "succeeded" | "failed" | "skipped";
    result?: unknown;
    error?: string;
    attempts?: number;
    next_at?: string;
    deadline_at?: string;
  };
  Hallucination: {
    agent: "planner" | "toolcaller";
    /** unknown_tool, tool_not_allowed, mutating_addition, invalid_args, changed_fixed_arg, … */
    kind: string;
    step_id: string;
    tool: string;
    arg?: string;
    reason: string;
    at: string;
  };
  RunTrace: {
    items: Schemas["AgentTrace"][];
    hallucinations: Schemas["Hallucination"][];
    totals: {
      calls: number;
      input_tokens: number;
      output_tokens: number;
      cost_usd: number;
    };
  };
  AgentTrace: {
    seq: number;
    at: string;
    agent: "planner" | "toolcaller" | "reviewer";
    step?: string;
    provider: "stub" | "openai" | "anthropic";
    model: string;
    prompt_version: string;
    /** SHA-256 of the system prompt, messages and schema name sent */
    prompt_hash: string;
    input_tokens: number;
    output_tokens: number;
    cost_usd: number;
    latency_ms: number;
    /** Requests that produced an answer: 2 after a repair */
    attempts?: number;
    /** The parsed answer, secrets redacted */
    output?: unknown;
    error?: {
      code: string;
      message: string;
    };
  };
  Review: {
    comment?: string;
  };
  Cancel: {
    compensate?: boolean;
  };
  PendingApproval: {
    run_id: string;
    runbook: string;
    step_id: string;
    tool: string;
    args?: unknown;
    decision?: unknown;
    requested_by: string;
    /** The person who started the run (DESIGN §14) */
    requested_by_person?: string;
    requested_at: string | null;
  };
  ShadowReport: {
    run_id: string;
    run_status: string;
    /** The run has ended; the comparison is final */
    complete: boolean;
    source: "expected" | "reference_run";
    reference_run?: string;
    /** 0–1; see `scoring` and worker/shadow/score.ts */
    score: number;
    /** Same calls, same order, same arguments */
    exact: boolean;
    summary: {
      expected: number;
      actual: number;
      matched: number;
      changed: number;
      reordered: number;
      missed: number;
      extra: number;
    };
    steps: Schemas["ShadowStep"][];
    violations: Array<{
      step: string;
      tool: string;
      kind: "denied" | "refused";
      message: string;
    }>;
    hallucinations: Schemas["Hallucination"][];
    scoring: {
      version: string;
      reorder_factor: number;
      extra_weight: {
        mutating: number;
        read_only: number;
      };
    };
  };
  ShadowStep: {
    kind: "matched" | "changed" | "reordered" | "missed" | "extra";
    /** The expected call (index in the expected plan); null for an extra step */
    expected: ({
      tool: string;
      args?: Record<string, unknown>;
      index: number;
    }) | null;
    /** The agent's step (index in the run's plan); null for a missed one */
    actual: ({
      tool: string;
      args: Record<string, unknown> | null;
      index: number;
      id: string;
      status?: string;
    }) | null;
    /** Argument similarity of the pair, 0–1 */
    similarity: number;
    differences: Array<{
      path: string;
      kind: "changed" | "missing" | "added";
      expected?: unknown;
      actual?: unknown;
    }>;
  };
  EvalReportSummary: {
    id: string;
    /** When the suite ran */
    created_at: string;
    provider: string;
    model: string;
    cases: number;
    /** Cases with at least one passing attempt (pass@k) */
    passed: number;
    /** match_score, exact_plan_rate, hallucination_rate, policy_violations, attack_success_rate, latency_p50_ms, latency_p95_ms, tokens, cost_usd, … */
    metrics: Record<string, number | null>;
    uploaded_at: string;
    uploaded_by: string | null;
  };
  EvalReport: {
    format: "agentrunbook.eval/1";
    id: string;
    created_at: string;
    provider: string;
    model: string;
    k: number;
    cases: number;
    passed: number;
    metrics: {
      /** Cases with at least one passing attempt out of k */
      pass_at_k: number;
      /** Attempts that passed */
      pass_rate: number;
      /** Mean shadow match score of the attempts */
      match_score: number;
      /** Attempts whose plan was exactly the expected one */
      exact_plan_rate: number;
      /** Attempts in which an agent proposed something that was refused or corrected */
      hallucination_rate: number;
      /** Unexpected policy denials and refused out-of-policy proposals, over all attempts */
      policy_violations: number;
      /** Injection attempts in which the injected call would have run, with the provider under test */
      attack_success_rate: number | null;
      /** The same with a scripted planner that always follows the injected instruction */
      attack_success_rate_scripted: number | null;
      latency_p50_ms: number | null;
      latency_p95_ms: number | null;
      tokens: number;
      cost_usd: number;
    } & Record<string, number | null>;
    results: Array<{
      case: string;
      integration: string;
      tags: string[];
      /** At least one of the k attempts passed */
      passed: boolean;
      /** Mean match score of the attempts */
      score: number;
      /** Every attempt planned exactly the expected calls */
      exact: boolean;
      attempts: Array<{
        rep: number;
        passed: boolean;
        score: number;
      } & Record<string, unknown>>;
    } & Record<string, unknown>>;
    thresholds?: {
      failures: string[];
    } & Record<string, unknown>;
    baseline?: ({
      id: string;
      regressions: Array<{
        kind: "metric" | "case";
        name: string;
        baseline?: unknown;
        current?: unknown;
        message: string;
      } & Record<string, unknown>>;
    } & Record<string, unknown>) | null;
    uploaded_at: string;
    uploaded_by: string | null;
  } & Record<string, unknown>;
  Tool: {
    id: string;
    namespace: string;
    description: string;
    mutating: boolean;
    risk: "low" | "medium" | "high";
    compensation: string | null;
    args_schema: Record<string, unknown>;
    result_schema: Record<string, unknown>;
  };
  ToolInvocation: {
    run_id: string;
    status: string;
    effect: "allow" | "deny" | "require_approval" | null;
    reasons: Array<{
      kind: string;
      name: string;
      effect: string;
      message: string;
    }>;
    step: Schemas["Step"];
    /** True when an earlier request with the same Idempotency-Key is answered */
    replayed: boolean;
  };
  LocatedMessage: {
    path: string;
    line?: number;
    message: string;
  };
  PolicyValidation: {
    ok: true;
    name: string;
    /** Problems that do not block saving, e.g. a tool pattern that matches no tool */
    warnings: Schemas["LocatedMessage"][];
  };
  PolicySummary: {
    id: string;
    name: string;
    version: number;
    active: boolean;
    created_at: string;
  };
  PolicyDiff: {
    from: Schemas["PolicyRef"];
    to: Schemas["PolicyRef"];
    changes: Schemas["PolicyChange"][];
    /** Unified diff of the two YAML documents */
    unified: string;
  };
  PolicyRef: {
    id: string;
    name: string;
    version: number;
  };
  PolicyChange: {
    kind: "metadata" | "role" | "rule" | "budgets" | "limit";
    change: "added" | "removed" | "changed";
    name?: string;
    fields?: Array<{
      field: string;
      before?: unknown;
      after?: unknown;
    }>;
    message: string;
  };
  PolicySimulation: {
    policy: Schemas["PolicyRef"];
    runs_considered: number;
    steps_considered: number;
    /** Steps without recorded arguments or decision, with a tool no longer in the catalog, or of runs without a recorded role */
    steps_skipped: number;
    changed: Array<{
      run_id: string;
      runbook: string;
      step_id: string;
      tool: string;
      before: Schemas["Decision"] & unknown;
      after: Schemas["Decision"];
    }>;
    /** `changed` lists at most 500 entries; `summary` counts all */
    truncated: boolean;
    /** Changes by transition, e.g. { "allow→deny": 2 }; require_approval→require_approval counts approvals asked of other people */
    summary: Record<string, number>;
  };
  SimulatePolicy: {
    /** How many of the most recent runs (with recorded steps) to replay */
    runs?: number;
  };
  AuditEntry: {
    seq: number;
    ts: string;
    tenant: string;
    actor: {
      type: string;
      id: string;
    };
    action: string;
    resource: {
      type: string;
      id: string;
    };
    data: Record<string, unknown>;
    prev_hash: string;
    hash: string;
    key_id: string;
  };
  AuditCheckpoint: {
    tree_size: number;
    /** SHA-256, 64 hex digits */
    root_hash: string;
    ts: string;
    key_id: string;
    /** The signed checkpoint in the C2SP format (c2sp.org/tlog-checkpoint), verbatim */
    note: string;
  };
  AuditSigningKey: {
    key_id: string;
    algorithm: "Ed25519";
    /** Raw 32-byte Ed25519 public key, base64 */
    public_key: string;
    /** Note verifier key <origin>+<key id>+<base64>: what `npm run audit:verify -- --public-key` takes */
    vkey: string;
    added_at: string;
    added_at_tree_size: number;
  };
  AnalyticsReport: {
    range: {
      from: string;
      to: string;
      bucket: "hour" | "day";
    };
    runs: {
      total: number;
      by_status: Schemas["RunStatusCounts"];
      series: Array<{
        bucket: string;
        total: number;
        by_status: Schemas["RunStatusCounts"];
      }>;
    };
    /** Created → ended of the runs that ended; exact nearest-rank percentiles */
    duration: {
      ended: number;
      /** Milliseconds; null when there is nothing to measure */
      p50_ms: number | null;
      /** Milliseconds; null when there is nothing to measure */
      p95_ms: number | null;
      series: Array<{
        bucket: string;
        ended: number;
        /** Milliseconds; null when there is nothing to measure */
        p50_ms: number | null;
        /** Milliseconds; null when there is nothing to measure */
        p95_ms: number | null;
      }>;
    };
    usage: {
      tokens: number;
      cost_usd: number;
      series: Array<{
        bucket: string;
        tokens: number;
        cost_usd: number;
      }>;
    };
    /** Approval requests opened in the range and the wait until their first review (from the audit log) */
    approvals: {
      requested: number;
      answered: number;
      /** Milliseconds; null when there is nothing to measure */
      p50_wait_ms: number | null;
      /** Milliseconds; null when there is nothing to measure */
      p95_wait_ms: number | null;
      series: Array<{
        bucket: string;
        answered: number;
        /** Milliseconds; null when there is nothing to measure */
        p50_wait_ms: number | null;
        /** Milliseconds; null when there is nothing to measure */
        p95_wait_ms: number | null;
      }>;
    };
    top_runbooks: Array<{
      runbook: string;
      runs: number;
      succeeded: number;
      failed: number;
      cost_usd: number;
      tokens: number;
      /** Milliseconds; null when there is nothing to measure */
      avg_duration_ms: number | null;
    }>;
    /** Shadow runs, and the mean match score (0–1) of the scored ones */
    shadow: {
      runs: number;
      scored: number;
      mean_score: number | null;
      series: Array<{
        bucket: string;
        runs: number;
        scored: number;
        mean_score: number | null;
      }>;
    };
  };
  RunStatusCounts: {
    queued: number;
    planning: number;
    running: number;
    awaiting_approval: number;
    succeeded: number;
    failed: number;
    denied: number;
    cancelled: number;
  };
  DashboardSummary: {
    now: string;
    /** Runs queued, planning, running or awaiting approval */
    active_runs: number;
    awaiting_approval: {
      runs: number;
      steps: number;
    };
    /** Runs that ended failed or denied in the last 24 hours */
    failed_24h: number;
    /** Runs created since 00:00 UTC */
    today: {
      since: string;
      runs: number;
      succeeded: number;
      failed: number;
      cost_usd: number;
      tokens: number;
    };
    /** The newest runs in flight (at most 10) */
    active: Schemas["RunBrief"][];
    /** The latest failures of the last 24 hours (at most 10) */
    recent_failures: Schemas["RunBrief"][];
  };
  RunBrief: {
    id: string;
    runbook: string;
    status: string;
    mode: string;
    reason: string | null;
    created_at: string;
    ended_at: string | null;
  };
  ClusterCreated: {
    name: string;
    labels: Record<string, string>;
    /** The relay's CLUSTER_TOKEN; only its hash is kept */
    token: string;
  };
  ClusterLabels: {
    name: string;
    labels: Record<string, string>;
  };
  Cluster: {
    name: string;
    /** What policies know about the cluster (`target.labels`) */
    labels: Record<string, string>;
    created_at: string;
    created_by: string | null;
    /** A relay holds the WebSocket and has said hello */
    connected: boolean;
    connected_at: string | null;
    /** The last frame or heartbeat from the relay */
    last_seen_at: string | null;
    disconnected_at: string | null;
    last_close: ({
      code: number;
      reason: string;
    }) | null;
    relay_version: string | null;
    protocol: number | null;
    /** The relay's own limits, from its hello */
    allowlist: ({
      namespaces: "*" | string[];
      actions: string[];
    }) | null;
    capabilities: ({
      actions: string[];
      dry_run: boolean;
      max_log_lines: number;
      signed_requests: boolean;
    }) | null;
    last_hello_at: string | null;
    /** The relay's last health report */
    health: ({
      ready: boolean;
      api_server: {
        reachable: boolean;
        checked_at: string | null;
        latency_ms: number | null;
        version: string | null;
        error: string | null;
      };
      in_flight: number;
      uptime_s: number;
    }) | null;
    last_health_at: string | null;
    /** Whether the relay reached the Kubernetes API server at its last probe */
    api_server_reachable: boolean | null;
    /** Requests sent to the relay (or waiting for it) and not answered yet */
    pending_requests: number;
  };
  RevokedCluster: {
    name: string;
    revoked_at: string;
  };
  DoctorReport: {
    /** No check failed (warnings allowed) */
    ok: boolean;
    /** installation: the platform owner sees bindings, secrets (names), migrations, LLM and tracing too; tenant: another tenant's admin sees only its integrations and relays */
    scope: "installation" | "tenant";
    checks: Schemas["DoctorCheck"][];
    /** Scope installation only */
    migrations?: {
      /** The D1 migrations this build of the Worker expects */
      expected: string[];
      /** What the database's d1_migrations table lists */
      applied: string[];
    };
  };
  DoctorCheck: {
    /** e.g. binding.DB, secret.SECRETS_KEY, migrations, integration.github, cluster.prod-eu */
    id: string;
    status: "ok" | "warn" | "fail";
    /** What was found; names settings, never their values */
    message: string;
    /** The command or setting that fixes it */
    fix?: string;
  };
}

/** Every operation: `path` and `query` parameters, the JSON `body`, and the success `response`. */
export interface Operations {
  /** Liveness */
  "GET /healthz": {
    response: {
      ok: boolean;
    };
  };
  /** Whether this browser is signed in, and as whom (200 either way, so a signed-out page load logs no error) */
  "GET /session": {
    response: Schemas["SessionState"];
  };
  /** Sign in with an API key (sets an HttpOnly session cookie) */
  "POST /session": {
    body: {
      key: string;
    };
    response: Schemas["Me"];
  };
  /** Sign out: ends the session and clears the cookie */
  "DELETE /session": {
    response: {
      ok: boolean;
    };
  };
  /** Start signing in with the tenant's identity provider (OIDC, authorization code + PKCE) */
  "GET /auth/oidc/{tenant}/login": {
    path: {
      tenant: string;
    };
    query: {
      /** A path on this site to land on afterwards (default `/`) */
      return_to?: string;
    };
    response: unknown;
  };
  /** Where the identity provider sends the browser back; opens a session and continues to return_to */
  "GET /auth/oidc/callback": {
    query: {
      code?: string;
      state?: string;
      error?: string;
      /** RFC 9207: the issuer that answers */
      iss?: string;
    };
    response: unknown;
  };
  /** First-run setup (needs the X-Bootstrap-Token header) */
  "POST /bootstrap": {
    body: {
      admin_key: string;
      tenant_name?: string;
      samples?: boolean;
      only_if_empty?: boolean;
    };
    response: {
      tenant_id: string;
      created: boolean;
      key_added: boolean;
      runbooks: string[];
      /** What the agents of this installation use (from its variables), or why that configuration does not load */
      agents: {
        provider: string;
        model?: string;
        /** The provider's base URL without any credentials in it */
        endpoint?: string;
        /** Why the configuration does not load: runs would fail with this reason */
        problem?: string;
      };
    };
  };
  /** Receive a webhook (GitHub, PagerDuty v3, Alertmanager, generic HMAC); matching runbook triggers start runs */
  "POST /hooks/{tenant}/{source}": {
    path: {
      tenant: string;
      source: "github" | "pagerduty" | "alertmanager" | "generic";
    };
    response: Schemas["WebhookDelivery"];
  };
  /** Create a tenant (platform owner only) */
  "POST /tenants": {
    body: {
      name: string;
    };
    response: Schemas["TenantCreated"];
  };
  /** Who am I */
  "GET /me": {
    response: Schemas["Me"];
  };
  /** List API keys (never the keys themselves) */
  "GET /keys": {
    response: {
      items: Schemas["ApiKey"][];
    };
  };
  /** Create an API key (shown once) */
  "POST /keys": {
    body: {
      name: string;
      role: "viewer" | "operator" | "sre" | "admin";
      /** The email of the person the key is for (default: the person creating it); only an admin makes keys for someone else */
      owner?: string;
    };
    response: {
      id: string;
      key: string;
      name: string;
      role: "viewer" | "operator" | "sre" | "admin";
      owner?: string;
    };
  };
  /** Replace a key with a new one; the old one works until the grace period ends */
  "POST /keys/{id}/rotate": {
    path: {
      id: string;
    };
    body: {
      /** How long the old key keeps working, e.g. "1h" (at most 7d; default 0s: it stops now) */
      grace?: string;
    };
    response: Schemas["RotatedKey"];
  };
  /** Revoke an API key at once (its sessions end too) */
  "DELETE /keys/{id}": {
    path: {
      id: string;
    };
    response: Schemas["ApiKey"];
  };
  /** The tenant's people with their role */
  "GET /people": {
    response: {
      items: Schemas["Person"][];
    };
  };
  /** Set the role of a person whose identity provider groups map to none (for example someone who approves from chat) */
  "PUT /people/{email}": {
    path: {
      email: string;
    };
    body: {
      role: "viewer" | "operator" | "sre" | "admin";
    };
    response: Schemas["Person"];
  };
  /** Tenant settings: OIDC sign-in, rate limits, and the schedule policies read (time zone, business hours, change freezes); admin, secrets never returned */
  "GET /settings": {
    response: Schemas["TenantSettings"];
  };
  /** Replace the tenant settings (admin). Leaving out oidc.client_secret keeps the stored one for the same issuer and client. */
  "PUT /settings": {
    body: {
      oidc?: {
        issuer: string;
        client_id: string;
        client_secret?: string;
        token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post" | "none";
        scopes?: string[];
        groups_claim?: string;
        role_mapping?: Record<string, "viewer" | "operator" | "sre" | "admin">;
        default_role?: "viewer" | "operator" | "sre" | "admin";
      };
      rate_limit?: {
        requests_per_minute: number;
        burst?: number;
      };
      time_zone?: string;
      business_hours?: {
        days: Array<"mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun">;
        start: string;
        end: string;
      };
      change_freezes?: Array<{
        name: string;
        start: string;
        end: string;
        reason?: string;
      }>;
    };
    response: Schemas["TenantSettings"];
  };
  /** After a SECRETS_KEY rotation (old key in SECRETS_KEY_PREVIOUS), seal every stored secret with the new key (platform owner only; safe to repeat) */
  "POST /secrets/reseal": {
    response: Schemas["ResealReport"];
  };
  /** Integration settings of every source (never secrets) */
  "GET /integrations": {
    response: {
      items: Schemas["Integration"][];
    };
  };
  /** One integration's settings (never secrets) */
  "GET /integrations/{vendor}": {
    path: {
      vendor: "github" | "jira" | "pagerduty" | "alertmanager" | "generic";
    };
    response: Schemas["Integration"];
  };
  /** Change an integration: mode, base URL, credentials (encrypted, never returned), webhook secret, the role webhook runs act with */
  "PUT /integrations/{vendor}": {
    path: {
      vendor: "github" | "jira" | "pagerduty" | "alertmanager" | "generic";
    };
    body: {
      mode?: "simulated" | "live";
      base_url?: string | null;
      /** Stored encrypted, never returned. GitHub { token }; Jira { email, api_token } or { token }; PagerDuty { token, from_email } */
      credentials?: Record<string, unknown>;
      /** Stored encrypted, never returned; the previous one keeps working for 24 h */
      webhook_secret?: string;
      /** The role runs started by this source's webhooks act with (default operator) */
      run_as_role?: "viewer" | "operator" | "sre" | "admin";
      /** Labels per target, read by policies as `target.labels`: GitHub "owner/repo", Jira project key, PagerDuty service id → { environment: "prod", … }. Replaces the stored map. */
      target_labels?: Record<string, Record<string, string>>;
    };
    response: Schemas["Integration"];
  };
  /** Check the stored URL and credentials with one authenticated read */
  "POST /integrations/{vendor}/test": {
    path: {
      vendor: "github" | "jira" | "pagerduty" | "alertmanager" | "generic";
    };
    response: Schemas["ConnectionCheck"];
  };
  /** List runbooks */
  "GET /runbooks": {
    query: {
      archived?: "true" | "false";
    };
    response: {
      items: Schemas["RunbookSummary"][];
    };
  };
  /** Create a runbook from YAML */
  "POST /runbooks": {
    body?: {
      yaml: string;
    };
    response: Schemas["CreatedDocument"];
  };
  /** Check runbook YAML without saving it (the editor's live check) */
  "POST /runbooks/validate": {
    body?: {
      yaml: string;
    };
    response: Schemas["RunbookValidation"];
  };
  /** Get a runbook (by id or name) with its YAML and versions */
  "GET /runbooks/{id}": {
    path: {
      id: string;
    };
    query: {
      version?: number;
    };
    response: Schemas["Runbook"];
  };
  /** Update a runbook: saves a new version, keeps the old ones */
  "PUT /runbooks/{id}": {
    path: {
      id: string;
    };
    body?: {
      yaml: string;
    };
    response: Schemas["CreatedDocument"];
  };
  /** Archive a runbook (versions are kept; PUT restores it) */
  "DELETE /runbooks/{id}": {
    path: {
      id: string;
    };
    response: Schemas["CreatedDocument"] & ({
      archived: boolean;
    });
  };
  /** List runs, newest first */
  "GET /runs": {
    query: {
      status?: "queued" | "planning" | "running" | "awaiting_approval" | "succeeded" | "failed" | "denied" | "cancelled";
      runbook?: string;
      limit?: number;
      /** Cursor: the next_cursor of the previous page */
      before?: string;
    };
    response: {
      items: Schemas["RunSummary"][];
      next_cursor: string | null;
    };
  };
  /** Start a run. With an Idempotency-Key header, a retry of the same request answers 200 with the run the first one started */
  "POST /runs": {
    body: Schemas["CreateRun"];
    response: {
      id: string;
      status: string;
      /** True when an earlier request with the same Idempotency-Key is answered */
      replayed: boolean;
    };
  };
  /** Get a run with its steps */
  "GET /runs/{id}": {
    path: {
      id: string;
    };
    response: Schemas["Run"];
  };
  /** Events of a run after a sequence number (polling alternative to /live) */
  "GET /runs/{id}/events": {
    path: {
      id: string;
    };
    query: {
      after?: number | null;
    };
    response: {
      items: Array<Record<string, unknown>>;
    };
  };
  /** The run's agent calls: agent, provider, model, prompt version, tokens, cost, latency, answer */
  "GET /runs/{id}/trace": {
    path: {
      id: string;
    };
    response: Schemas["RunTrace"];
  };
  /** A step's whole result (a large one is only previewed in the run view) */
  "GET /runs/{id}/steps/{stepId}/result": {
    path: {
      id: string;
      stepId: string;
    };
    response: {
      step_id: string;
      result?: unknown;
      result_ref?: Schemas["ResultRef"];
    };
  };
  /** Retry the failed compensations of a finished run (after a person looked) */
  "POST /runs/{id}/compensate": {
    path: {
      id: string;
    };
    response: Schemas["Run"];
  };
  /** Approve a waiting step */
  "POST /runs/{id}/steps/{stepId}/approve": {
    path: {
      id: string;
      stepId: string;
    };
    body: Schemas["Review"];
    response: Schemas["Step"];
  };
  /** Deny a waiting step */
  "POST /runs/{id}/steps/{stepId}/deny": {
    path: {
      id: string;
      stepId: string;
    };
    body: Schemas["Review"];
    response: Schemas["Step"];
  };
  /** Cancel a run (optionally compensating completed steps) */
  "POST /runs/{id}/cancel": {
    path: {
      id: string;
    };
    body: Schemas["Cancel"];
    response: Schemas["Run"];
  };
  /** Steps waiting for an approval the caller may give */
  "GET /approvals": {
    response: {
      items: Schemas["PendingApproval"][];
    };
  };
  /** A shadow run compared with its expected plan or reference run: match score, per-step alignment and argument differences, policy violations */
  "GET /runs/{id}/shadow": {
    path: {
      id: string;
    };
    response: Schemas["ShadowReport"];
  };
  /** Evaluation reports, newest first */
  "GET /evals": {
    query: {
      limit?: number;
      /** Cursor: the next_cursor of the previous page */
      before?: string;
    };
    response: {
      items: Schemas["EvalReportSummary"][];
      next_cursor: string | null;
    };
  };
  /** Upload an evaluation report written by `npm run eval` (admin); the same report again is a no-op */
  "POST /evals": {
    body: {
      format: "agentrunbook.eval/1";
      id: string;
      created_at: string;
      provider: string;
      model: string;
      k: number;
      cases: number;
      passed: number;
      metrics: {
        /** Cases with at least one passing attempt out of k */
        pass_at_k: number;
        /** Attempts that passed */
        pass_rate: number;
        /** Mean shadow match score of the attempts */
        match_score: number;
        /** Attempts whose plan was exactly the expected one */
        exact_plan_rate: number;
        /** Attempts in which an agent proposed something that was refused or corrected */
        hallucination_rate: number;
        /** Unexpected policy denials and refused out-of-policy proposals, over all attempts */
        policy_violations: number;
        /** Injection attempts in which the injected call would have run, with the provider under test */
        attack_success_rate: number | null;
        /** The same with a scripted planner that always follows the injected instruction */
        attack_success_rate_scripted: number | null;
        latency_p50_ms: number | null;
        latency_p95_ms: number | null;
        tokens: number;
        cost_usd: number;
      } & Record<string, number | null>;
      results: Array<{
        case: string;
        integration: string;
        tags: string[];
        /** At least one of the k attempts passed */
        passed: boolean;
        /** Mean match score of the attempts */
        score: number;
        /** Every attempt planned exactly the expected calls */
        exact: boolean;
        attempts: Array<{
          rep: number;
          passed: boolean;
          score: number;
        } & Record<string, unknown>>;
      } & Record<string, unknown>>;
      thresholds?: {
        failures: string[];
      } & Record<string, unknown>;
      baseline?: ({
        id: string;
        regressions: Array<{
          kind: "metric" | "case";
          name: string;
          baseline?: unknown;
          current?: unknown;
          message: string;
        } & Record<string, unknown>>;
      } & Record<string, unknown>) | null;
    } & Record<string, unknown>;
    response: Schemas["EvalReportSummary"];
  };
  /** One evaluation report with its per-case results */
  "GET /evals/{id}": {
    path: {
      id: string;
    };
    response: Schemas["EvalReport"];
  };
  /** The tool catalog with JSON Schemas */
  "GET /tools": {
    response: {
      items: Schemas["Tool"][];
    };
  };
  /** The policy decision for a proposed call; nothing is executed */
  "POST /tools/plan": {
    body: {
      tool: string;
      args?: Record<string, unknown>;
      context?: Record<string, unknown>;
    };
    response: Schemas["Decision"] & ({
      operations: Array<{
        method: string;
        target: string;
        description: string;
      }>;
    });
  };
  /** Make one tool call under the policy: decided, approved if needed, executed once, audited */
  "POST /tools/invoke": {
    body: {
      tool: string;
      args?: Record<string, unknown>;
      context?: Record<string, unknown>;
      mode?: "execute" | "dry_run";
      /** Why the call is made; kept with the run and in the audit log */
      reason?: string;
    };
    response: Schemas["ToolInvocation"];
  };
  /** List policy versions */
  "GET /policies": {
    response: {
      items: Schemas["PolicySummary"][];
    };
  };
  /** Save a policy version from YAML */
  "POST /policies": {
    body?: {
      yaml: string;
    };
    response: Schemas["CreatedDocument"] & ({
      warnings: Schemas["LocatedMessage"][];
    });
  };
  /** Check policy YAML without saving it: schema, CEL conditions, approvers, tool patterns */
  "POST /policies/validate": {
    body?: {
      yaml: string;
    };
    response: Schemas["PolicyValidation"];
  };
  /** Get a policy version with its YAML */
  "GET /policies/{id}": {
    path: {
      id: string;
    };
    response: Schemas["PolicySummary"] & ({
      yaml: string;
      spec: Record<string, unknown>;
    });
  };
  /** What changes from policy version `against` to this one: semantic changes and a unified diff */
  "GET /policies/{id}/diff": {
    path: {
      id: string;
    };
    query: {
      /** The policy version to compare with (the "from" side) */
      against: string;
    };
    response: Schemas["PolicyDiff"];
  };
  /** Replay recent runs under this policy version and list the decisions that would change */
  "POST /policies/{id}/simulate": {
    path: {
      id: string;
    };
    body: Schemas["SimulatePolicy"];
    response: Schemas["PolicySimulation"];
  };
  /** Make a policy version the active one */
  "POST /policies/{id}/activate": {
    path: {
      id: string;
    };
    response: Schemas["CreatedDocument"] & ({
      active: boolean;
    });
  };
  /** Audit entries in order, filtered and paged (`after` = last seq seen) */
  "GET /audit": {
    query: {
      after?: number | null;
      limit?: number;
      action?: string;
      resource_type?: string;
      resource_id?: string;
      actor_id?: string;
    };
    response: {
      items: Schemas["AuditEntry"][];
      next_after: number | null;
    };
  };
  /** Walk the hash chain, compare every entry with the signed Merkle tree, and report the first break */
  "GET /audit/verify": {
    response: {
      ok: boolean;
      entries: number;
      first_bad_seq?: number;
      reason?: string;
    };
  };
  /** Signed checkpoints of the tenant's audit log (C2SP format), oldest first, with the public keys that signed them */
  "GET /audit/checkpoints": {
    query: {
      /** Tree size of the last checkpoint seen */
      after?: number | null;
      limit?: number;
    };
    response: {
      origin: string;
      tree_size: number;
      /** SHA-256, 64 hex digits */
      root_hash: string;
      /** Whether checkpoints are being signed (AUDIT_SIGNING_KEY is set) */
      signing: boolean;
      items: Schemas["AuditCheckpoint"][];
      keys: Schemas["AuditSigningKey"][];
      next_after: number | null;
    };
  };
  /** RFC 6962 inclusion proof of entry `seq` in the tree of the first `tree_size` entries (default: all) */
  "GET /audit/proof/inclusion": {
    query: {
      seq: number;
      tree_size?: number;
    };
    response: {
      seq: number;
      tree_size: number;
      leaf_index: number;
      /** SHA-256, 64 hex digits */
      leaf_hash: string;
      /** SHA-256, 64 hex digits */
      root_hash: string;
      proof: string[];
      checkpoint?: Schemas["AuditCheckpoint"];
    };
  };
  /** RFC 6962 consistency proof that the tree of `from` entries is a prefix of the tree of `to` entries (default: all) */
  "GET /audit/proof/consistency": {
    query: {
      from: number;
      to?: number;
    };
    response: {
      from: number;
      to: number;
      /** SHA-256, 64 hex digits */
      from_root: string;
      /** SHA-256, 64 hex digits */
      to_root: string;
      proof: string[];
    };
  };
  /** Runs over time by status, duration p50/p95, tokens and cost, approval wait, top runbooks and shadow match, for a range */
  "GET /analytics": {
    query: {
      /** Start (inclusive), ISO-8601; default: 7 days before `to` */
      from?: string;
      /** End (exclusive), ISO-8601; default: now */
      to?: string;
      /** Series granularity (UTC); default: hour up to 2 days, else day */
      bucket?: "hour" | "day";
      /** How many runbooks `top_runbooks` lists */
      top?: number;
    };
    response: Schemas["AnalyticsReport"];
  };
  /** The dashboard: runs in flight, waiting approvals, failures of the last 24 hours, cost today */
  "GET /analytics/summary": {
    response: Schemas["DashboardSummary"];
  };
  /** Registered clusters and their relays' status */
  "GET /clusters": {
    response: {
      items: Schemas["Cluster"][];
    };
  };
  /** Register a Kubernetes cluster; returns the relay's token (shown once) */
  "POST /clusters": {
    body: {
      /** The name runbooks use in the k8s tools' `cluster` argument, e.g. "prod-eu" */
      name: string;
      /** Labels policies read as `target.labels`, e.g. { "environment": "prod", "region": "eu" } */
      labels?: Record<string, string>;
    };
    response: Schemas["ClusterCreated"];
  };
  /** One cluster and its relay's status */
  "GET /clusters/{name}": {
    path: {
      name: string;
    };
    response: Schemas["Cluster"];
  };
  /** Replace a cluster's labels (what policies read as `target.labels`) */
  "PATCH /clusters/{name}": {
    path: {
      name: string;
    };
    body: {
      /** Labels policies read as `target.labels`, e.g. { "environment": "prod", "region": "eu" } */
      labels: Record<string, string>;
    };
    response: Schemas["ClusterLabels"];
  };
  /** Revoke a cluster's token: its relay is disconnected and its calls fail */
  "DELETE /clusters/{name}": {
    path: {
      name: string;
    };
    response: Schemas["RevokedCluster"];
  };
  /** Check the installation (platform owner: bindings, secrets by name, migrations, LLM provider) and this tenant's live integrations and relays */
  "GET /doctor": {
    response: Schemas["DoctorReport"];
  };
}

export type OperationKey = keyof Operations;
