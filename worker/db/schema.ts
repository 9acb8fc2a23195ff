import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Timestamps are ISO-8601 strings (UTC): readable in the audit log and in exports, and they sort.
const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

export const tenants = sqliteTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  activePolicyId: text('active_policy_id'),
  /** Tenant settings (OIDC sign-in, group → role mapping, rate limits) as validated JSON; see worker/store/settings.ts. */
  settings: text('settings', { mode: 'json' }).notNull().default(sql`'{}'`),
  createdAt: text('created_at').notNull().default(now),
});

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    name: text('name').notNull(),
    role: text('role', { enum: ['viewer', 'operator', 'sre', 'admin'] }).notNull(),
    /** SHA-256 of the key, hex. The key itself is shown once and never stored. */
    hash: text('hash').notNull(),
    /** First characters of the key, so people can tell their keys apart. */
    prefix: text('prefix').notNull(),
    platformOwner: integer('platform_owner', { mode: 'boolean' }).notNull().default(false),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull().default(now),
    lastUsedAt: text('last_used_at'),
    revokedAt: text('revoked_at'),
    /** A rotated key keeps working until this time (the grace period), then stops. */
    expiresAt: text('expires_at'),
    /** The key this one replaced by rotation. */
    rotatedFrom: text('rotated_from'),
    /**
     * The person the key belongs to (DESIGN §14): an email, an OIDC `iss|sub`, or `key:<id>` for a
     * key from before owners were recorded (worker/auth/person.ts). Null on those older keys.
     */
    owner: text('owner'),
  },
  (t) => [uniqueIndex('api_keys_hash').on(t.hash), index('api_keys_tenant').on(t.tenantId), index('api_keys_tenant_owner').on(t.tenantId, t.owner)],
);

/**
 * The tenant's people (DESIGN §14): whoever owns a key, signed in through OIDC, or was given a
 * role with `PUT /people/{email}`. `id` is the person as duties compare them (person.ts).
 */
export const people = sqliteTable(
  'people',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    id: text('id').notNull(),
    email: text('email'),
    name: text('name'),
    /** The OIDC `iss|sub` last seen for this person. */
    oidcSubject: text('oidc_subject'),
    /** The role their IdP groups mapped to at their last sign-in (null: no group of theirs is mapped). */
    groupsRole: text('groups_role', { enum: ['viewer', 'operator', 'sre', 'admin'] }),
    /** The role an admin gave them with `PUT /people/{email}` (only for people without a group mapping). */
    role: text('role', { enum: ['viewer', 'operator', 'sre', 'admin'] }),
    roleSetBy: text('role_set_by'),
    createdAt: text('created_at').notNull().default(now),
    lastSeenAt: text('last_seen_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/**
 * Sign-in sessions of people (OIDC) and of the UI's key sign-in. The cookie carries a signed
 * token naming the session id; logout and revocation set `revoked_at`, so a stolen cookie dies
 * with the session.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    /** `api_key` (signed in with a key: the key's role applies) or `oidc` (role from the groups). */
    kind: text('kind', { enum: ['api_key', 'oidc'] }).notNull(),
    /** The key id, or the OIDC `iss|sub`. */
    subject: text('subject').notNull(),
    /** An OIDC session's person (person.ts); null for key sessions (the key's owner is) and older sessions. */
    person: text('person'),
    email: text('email'),
    name: text('name'),
    role: text('role', { enum: ['viewer', 'operator', 'sre', 'admin'] }).notNull(),
    groups: text('groups', { mode: 'json' }),
    createdAt: text('created_at').notNull().default(now),
    expiresAt: text('expires_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [index('sessions_tenant_subject').on(t.tenantId, t.subject)],
);

export const runbooks = sqliteTable(
  'runbooks',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    name: text('name').notNull(),
    description: text('description'),
    version: integer('version').notNull(),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
    archivedAt: text('archived_at'),
  },
  (t) => [uniqueIndex('runbooks_tenant_name').on(t.tenantId, t.name)],
);

export const runbookVersions = sqliteTable(
  'runbook_versions',
  {
    runbookId: text('runbook_id').notNull().references(() => runbooks.id),
    tenantId: text('tenant_id').notNull(),
    version: integer('version').notNull(),
    yaml: text('yaml').notNull(),
    /** The validated runbook as JSON, so runs never re-parse YAML. */
    spec: text('spec', { mode: 'json' }).notNull(),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.runbookId, t.version] })],
);

export const policies = sqliteTable(
  'policies',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    yaml: text('yaml').notNull(),
    spec: text('spec', { mode: 'json' }).notNull(),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('policies_tenant_name_version').on(t.tenantId, t.name, t.version)],
);

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    runbookId: text('runbook_id').notNull(),
    runbookName: text('runbook_name').notNull(),
    runbookVersion: integer('runbook_version').notNull(),
    policyId: text('policy_id'),
    status: text('status').notNull(),
    mode: text('mode').notNull(),
    inputs: text('inputs', { mode: 'json' }).notNull(),
    context: text('context', { mode: 'json' }).notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    /** The role the run was started with: policy decisions use it, and the simulator replays it. */
    actorRole: text('actor_role'),
    /** The person who started the run (DESIGN §14); null for runs from before persons were recorded. */
    actorPerson: text('actor_person'),
    reason: text('reason'),
    costUsd: real('cost_usd').notNull().default(0),
    tokens: integer('tokens').notNull().default(0),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
    endedAt: text('ended_at'),
    /** When the run's object wants to be woken next (null: it waits for a person, or is done): the watchdog's index. */
    nextWakeAt: text('next_wake_at'),
  },
  (t) => [
    index('runs_tenant_created').on(t.tenantId, t.createdAt),
    index('runs_tenant_status').on(t.tenantId, t.status),
    index('runs_next_wake').on(t.nextWakeAt, t.id).where(sql`next_wake_at IS NOT NULL`),
  ],
);

export const runSteps = sqliteTable(
  'run_steps',
  {
    runId: text('run_id').notNull(),
    stepId: text('step_id').notNull(),
    tenantId: text('tenant_id').notNull(),
    idx: integer('idx').notNull(),
    tool: text('tool').notNull(),
    status: text('status').notNull(),
    args: text('args', { mode: 'json' }),
    result: text('result', { mode: 'json' }),
    error: text('error'),
    decision: text('decision', { mode: 'json' }),
    /** Reviews so far (who, verdict, args hash): the inbox hides steps the caller has reviewed. */
    approvals: text('approvals', { mode: 'json' }),
    attempts: integer('attempts').notNull().default(0),
    startedAt: text('started_at'),
    endedAt: text('ended_at'),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.stepId] }),
    index('run_steps_tenant_status').on(t.tenantId, t.status),
  ],
);

/**
 * The ledger of the simulated integrations: the "vendor side" of every simulated tool call,
 * keyed by idempotency key. A call repeated with the same key returns the recorded result
 * instead of acting again — as GitHub, Jira and PagerDuty do with their idempotency keys.
 */
export const toolCalls = sqliteTable(
  'tool_calls',
  {
    idempotencyKey: text('idempotency_key').notNull(),
    tenantId: text('tenant_id').notNull(),
    runId: text('run_id').notNull(),
    stepId: text('step_id').notNull(),
    tool: text('tool').notNull(),
    mode: text('mode').notNull(),
    argsHash: text('args_hash').notNull(),
    result: text('result', { mode: 'json' }),
    error: text('error'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.idempotencyKey] }), index('tool_calls_run').on(t.runId)],
);

/**
 * Blast-radius counters: one row per executed call of a tool that a policy `limits` entry names.
 * A row is reserved atomically (a conditional insert) before the call, so two runs cannot both take
 * the last slot; the key (run, step) makes a re-delivered step count once.
 */
export const limitUsage = sqliteTable(
  'limit_usage',
  {
    tenantId: text('tenant_id').notNull(),
    runId: text('run_id').notNull(),
    stepId: text('step_id').notNull(),
    tool: text('tool').notNull(),
    /** Epoch milliseconds: windows are compared as numbers. */
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.runId, t.stepId] }), index('limit_usage_tenant_at').on(t.tenantId, t.at)],
);

/**
 * A tenant's settings of one integration: GitHub, Jira and PagerDuty (tools and webhooks),
 * Alertmanager and generic (webhooks only). Credentials and webhook secrets are stored encrypted
 * (AES-GCM, worker/lib/secrets.ts) and never returned.
 */
export const integrations = sqliteTable(
  'integrations',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    vendor: text('vendor', { enum: ['github', 'jira', 'pagerduty', 'alertmanager', 'generic'] }).notNull(),
    mode: text('mode', { enum: ['simulated', 'live'] }).notNull().default('simulated'),
    baseUrl: text('base_url'),
    credentialsEnc: text('credentials_enc'),
    webhookSecretEnc: text('webhook_secret_enc'),
    /** The secret before the last change, accepted until `previous_secret_expires_at` (rotation). */
    previousWebhookSecretEnc: text('previous_webhook_secret_enc'),
    previousSecretExpiresAt: text('previous_secret_expires_at'),
    /** The role runs started by this source's webhooks act with. */
    runAsRole: text('run_as_role', { enum: ['viewer', 'operator', 'sre', 'admin'] }).notNull().default('operator'),
    /** Labels per target of the vendor (GitHub repository, Jira project, PagerDuty service): `target.labels` in policies. */
    targetLabels: text('target_labels', { mode: 'json' }).$type<Record<string, Record<string, string>>>().notNull().default(sql`'{}'`),
    updatedBy: text('updated_by'),
    updatedAt: text('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.vendor] })],
);

/** Webhook deliveries by their delivery id: a replayed delivery is answered from here, not run again. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    tenantId: text('tenant_id').notNull(),
    source: text('source').notNull(),
    /** What the delivery is de-duplicated by: derived from what its signature covers (hooks/verify.ts). */
    deliveryId: text('delivery_id').notNull(),
    /** The sender's own id for the delivery (X-GitHub-Delivery, X-AgentRunbook-Delivery), when it differs. */
    vendorDeliveryId: text('vendor_delivery_id'),
    eventType: text('event_type'),
    receivedAt: text('received_at').notNull().default(now),
    /** Ids of the runs the delivery started. */
    runs: text('runs', { mode: 'json' }).notNull().default(sql`'[]'`),
    /** Triggers that matched, and any that failed (CEL error, invalid inputs). */
    matches: text('matches', { mode: 'json' }).notNull().default(sql`'[]'`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.source, t.deliveryId] }),
    index('webhook_deliveries_tenant_received').on(t.tenantId, t.receivedAt),
    // A sender's retry under the same id is the same delivery, even re-signed with a new timestamp.
    uniqueIndex('webhook_deliveries_vendor_id').on(t.tenantId, t.source, t.vendorDeliveryId),
  ],
);

/**
 * Kubernetes clusters reached through the in-cluster relay. The relay authenticates with a token
 * shown once (stored as SHA-256); requests to it are signed with a key derived from the token,
 * stored encrypted.
 */
export const clusters = sqliteTable(
  'clusters',
  {
    tenantId: text('tenant_id').notNull().references(() => tenants.id),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    signingKeyEnc: text('signing_key_enc').notNull(),
    createdBy: text('created_by'),
    createdAt: text('created_at').notNull().default(now),
    revokedAt: text('revoked_at'),
    /** What policies know about the cluster (`target.labels`), e.g. { "environment": "prod" }. */
    labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull().default(sql`'{}'`),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] }), uniqueIndex('clusters_token_hash').on(t.tokenHash)],
);

export const auditLog = sqliteTable(
  'audit_log',
  {
    tenantId: text('tenant_id').notNull(),
    seq: integer('seq').notNull(),
    ts: text('ts').notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    data: text('data').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    keyId: text('key_id').notNull(),
    /** Where the entry came from (e.g. `run:<id>:<event seq>`), so a retried append is a no-op. */
    sourceKey: text('source_key'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    uniqueIndex('audit_source_key').on(t.tenantId, t.sourceKey),
    index('audit_tenant_action').on(t.tenantId, t.action),
  ],
);

/**
 * What a shadow run is compared with: the expected plan given at `POST /runs`, or the calls of
 * the reference run it named (snapshotted then, so the comparison cannot drift). The score is
 * recorded once, when the run has ended, and audited as `run.shadow.scored`.
 */
export const shadowExpectations = sqliteTable(
  'shadow_expectations',
  {
    tenantId: text('tenant_id').notNull(),
    runId: text('run_id').notNull(),
    /** `[{ tool, args? }]`. */
    expected: text('expected', { mode: 'json' }).notNull(),
    referenceRun: text('reference_run'),
    score: real('score'),
    scoredAt: text('scored_at'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.runId] })],
);

/**
 * Evaluation reports uploaded from `npm run eval` (`POST /evals`): the summary columns the list
 * shows, and the whole report for the detail view. `digest` (SHA-256 of the canonical report)
 * makes a repeated upload of the same report a no-op rather than a conflict.
 */
export const evalReports = sqliteTable(
  'eval_reports',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    cases: integer('cases').notNull(),
    passed: integer('passed').notNull(),
    metrics: text('metrics', { mode: 'json' }).notNull(),
    report: text('report', { mode: 'json' }).notNull(),
    digest: text('digest').notNull(),
    /** When the suite ran (the report's own `created_at`). */
    createdAt: text('created_at').notNull(),
    uploadedBy: text('uploaded_by'),
    uploadedAt: text('uploaded_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('eval_reports_tenant_created').on(t.tenantId, t.createdAt)],
);
