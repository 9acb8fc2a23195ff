import { and, eq, isNotNull, isNull, or } from 'drizzle-orm';
import type { DB } from '../db/client';
import { clusters, integrations } from '../db/schema';
import { ApiError } from '../lib/errors';
import { resealSecret, type SecretsEnv } from '../lib/secrets';
import { previousSecretLive } from './integrations';

/** Where a stored secret lives, as the reseal report names it (never its value). */
export interface SecretPlace {
  tenant_id: string;
  /** e.g. `integration jira credentials`, `cluster prod-eu signing key`, `oidc client secret` */
  what: string;
}

export interface ResealReport {
  /** Stored secrets looked at. */
  checked: number;
  /** Sealed again with the current key (they opened only with SECRETS_KEY_PREVIOUS). */
  resealed: number;
  /** Opened by neither key: sealed with a key that is gone. Their owners must enter them again. */
  unreadable: (SecretPlace & { fix: string })[];
}

interface Stored extends SecretPlace {
  value: string;
  /** Writes the resealed value, only if the row still holds `value` (a concurrent change wins). */
  write(next: string): Promise<void>;
  fix: string;
}

/**
 * After a rotation of SECRETS_KEY (the old key in SECRETS_KEY_PREVIOUS), seals every stored secret
 * of every tenant with the new key: integration credentials and webhook secrets, clusters' signing
 * keys, OIDC client secrets. Each write is conditional on the row still holding what was read, so a
 * secret changed meanwhile (already sealed with the new key) is left as it is. Safe to run again.
 */
export async function resealAll(env: SecretsEnv & { DB: D1Database }, db: DB): Promise<ResealReport> {
  const found: Stored[] = [];

  const ints = await db
    .select()
    .from(integrations)
    .where(or(isNotNull(integrations.credentialsEnc), isNotNull(integrations.webhookSecretEnc), isNotNull(integrations.previousWebhookSecretEnc)));
  for (const row of ints) {
    // A webhook secret replaced earlier is accepted only until its overlap ends; after that it is dead weight.
    const previousLive = previousSecretLive(row);
    const columns = [
      ['credentials', integrations.credentialsEnc, row.credentialsEnc, 'credentialsEnc', `PUT /api/v1/integrations/${row.vendor} with the credentials again`],
      ['webhook secret', integrations.webhookSecretEnc, row.webhookSecretEnc, 'webhookSecretEnc', `PUT /api/v1/integrations/${row.vendor} with the webhook secret again`],
      [
        'previous webhook secret',
        integrations.previousWebhookSecretEnc,
        previousLive ? row.previousWebhookSecretEnc : null,
        'previousWebhookSecretEnc',
        `none needed: it stops being accepted at ${row.previousSecretExpiresAt}`,
      ],
    ] as const;
    for (const [label, column, value, field, fix] of columns) {
      if (!value) continue;
      found.push({
        tenant_id: row.tenantId,
        what: `integration ${row.vendor} ${label}`,
        value,
        fix,
        write: async (next) =>
          void (await db
            .update(integrations)
            .set({ [field]: next })
            .where(and(eq(integrations.tenantId, row.tenantId), eq(integrations.vendor, row.vendor), eq(column, value)))),
      });
    }
  }

  // A revoked cluster's key signs nothing any more: left as it is.
  const cls = await db
    .select({ tenantId: clusters.tenantId, name: clusters.name, signingKeyEnc: clusters.signingKeyEnc })
    .from(clusters)
    .where(isNull(clusters.revokedAt));
  for (const row of cls) {
    found.push({
      tenant_id: row.tenantId,
      what: `cluster ${row.name} signing key`,
      value: row.signingKeyEnc,
      fix: `DELETE /api/v1/clusters/${row.name}, POST /api/v1/clusters again, and restart its relay with the new token`,
      write: async (next) =>
        void (await db
          .update(clusters)
          .set({ signingKeyEnc: next })
          .where(and(eq(clusters.tenantId, row.tenantId), eq(clusters.name, row.name), eq(clusters.signingKeyEnc, row.signingKeyEnc)))),
    });
  }

  // OIDC client secrets live inside the tenant's settings JSON: read and written by path.
  const oidc = await env.DB.prepare(
    `SELECT id, json_extract(settings, '$.oidc.client_secret_enc') AS enc FROM tenants WHERE json_extract(settings, '$.oidc.client_secret_enc') IS NOT NULL`,
  ).all<{ id: string; enc: string }>();
  for (const row of oidc.results) {
    found.push({
      tenant_id: row.id,
      what: 'oidc client secret',
      value: row.enc,
      fix: 'PUT /api/v1/settings with oidc.client_secret again',
      write: async (next) =>
        void (await env.DB.prepare(
          `UPDATE tenants SET settings = json_set(settings, '$.oidc.client_secret_enc', ?) WHERE id = ? AND json_extract(settings, '$.oidc.client_secret_enc') = ?`,
        )
          .bind(next, row.id, row.enc)
          .run()),
    });
  }

  const report: ResealReport = { checked: found.length, resealed: 0, unreadable: [] };
  for (const secret of found) {
    let next: string | undefined;
    try {
      next = await resealSecret(env, secret.tenant_id, secret.value);
    } catch (err) {
      // A key that is not a key (malformed SECRETS_KEY or SECRETS_KEY_PREVIOUS) is the installation's
      // problem, said once as such, not every stored secret reported as lost.
      if (err instanceof ApiError) throw err;
      report.unreadable.push({ tenant_id: secret.tenant_id, what: secret.what, fix: secret.fix });
      continue;
    }
    if (next === undefined) continue;
    await secret.write(next);
    report.resealed++;
  }
  return report;
}

