import { makeDb } from '../db/client';
import type { Env } from '../env';
import { fail, type Check, type DoctorContext } from './check';
import { bindingChecks, llmCheck, otlpCheck, secretChecks } from './config-checks';
import { EXPECTED_MIGRATIONS, appliedMigrations, migrationCheck, type MigrationState } from './migrations';
import { clusterChecks, integrationChecks } from './tenant-checks';

/**
 * What a report covers. The platform owner sees the installation (bindings, secrets by name,
 * migrations, the LLM provider, tracing) and their tenant; any other tenant's admin sees only their
 * own tenant's live integrations and relays: how the installation is built is not theirs to read.
 */
export type DoctorScope = 'installation' | 'tenant';

export interface DoctorReport {
  /** No check failed (warnings allowed). */
  ok: boolean;
  scope: DoctorScope;
  checks: Check[];
  /** The installation's migrations (scope `installation` only). */
  migrations?: MigrationState;
}

/** A check that threw is itself a failure, so one broken part never hides the rest of the report. */
async function guarded(id: string, fix: string, run: () => Promise<Check[]>): Promise<Check[]> {
  try {
    return await run();
  } catch (err) {
    return [fail(id, `the check itself failed: ${err instanceof Error ? err.message : String(err)}`, fix)];
  }
}

/**
 * Everything `npm run doctor` asks the Worker: its bindings and secrets, the database's migrations,
 * the agents' provider (scope `installation`), and for the calling tenant its live integrations and
 * clusters.
 */
export async function runDoctor(env: Env, tenantId: string, ctx: DoctorContext, scope: DoctorScope): Promise<DoctorReport> {
  const db = makeDb(env.DB);
  const migrations: MigrationState = { expected: [...EXPECTED_MIGRATIONS], applied: [] };
  const installation =
    scope === 'installation'
      ? [
          guarded('bindings', 'check wrangler.toml', () => bindingChecks(env)),
          guarded('secrets', 'check the Worker\'s secrets', () => secretChecks(env, ctx)),
          guarded('migrations', 'check the DB binding', async () => {
            const applied = await appliedMigrations(env.DB);
            migrations.applied = applied ?? [];
            return [migrationCheck({ expected: EXPECTED_MIGRATIONS, applied }, ctx)];
          }),
          Promise.resolve([llmCheck(env, ctx), otlpCheck(env)]),
        ]
      : [];
  const groups = await Promise.all([
    ...installation,
    guarded('integrations', 'check the DB binding and SECRETS_KEY', () => integrationChecks(env, db, tenantId)),
    guarded('clusters', 'check the DB and CLUSTERS bindings', () => clusterChecks(env, db, tenantId)),
  ]);
  const checks = groups.flat();
  return { ok: !checks.some((c) => c.status === 'fail'), scope, checks, ...(scope === 'installation' ? { migrations } : {}) };
}
