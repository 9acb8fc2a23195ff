import journal from '../../migrations/meta/_journal.json';
import { fail, ok, warn, type Check, type DoctorContext } from './check';

/**
 * The D1 migrations this build of the Worker expects, in order, as wrangler names them in the
 * `d1_migrations` table (`migrations/<tag>.sql`). Taken from drizzle-kit's journal, which
 * `npm run db:generate` updates with every new migration and which is bundled at build time; a
 * test checks it lists exactly the files in migrations/.
 */
export const EXPECTED_MIGRATIONS: readonly string[] = journal.entries.map((e) => `${e.tag}.sql`);

export interface MigrationState {
  expected: string[];
  /** What D1's `d1_migrations` table lists, in the order applied; empty when the table is missing. */
  applied: string[];
}

/** Reads `d1_migrations`; a database no migration was ever applied to has no such table. */
export async function appliedMigrations(db: D1Database): Promise<string[] | undefined> {
  try {
    const { results } = await db.prepare('SELECT name FROM d1_migrations ORDER BY id').all<{ name: string }>();
    return results.map((r) => r.name);
  } catch (err) {
    if (/no such table/i.test(err instanceof Error ? err.message : String(err))) return undefined;
    throw err;
  }
}

/** Compares what the build expects with what the database has. */
export function migrationCheck(state: { expected: readonly string[]; applied: readonly string[] | undefined }, ctx: DoctorContext): Check {
  const apply = `npx wrangler d1 migrations apply DB ${ctx.local ? '--local' : '--remote'}`;
  if (!state.applied) return fail('migrations', 'no migration was ever applied to DB (there is no d1_migrations table)', apply);
  const applied = new Set(state.applied);
  const missing = state.expected.filter((m) => !applied.has(m));
  if (missing.length) return fail('migrations', `${missing.length} migration${missing.length === 1 ? ' is' : 's are'} not applied to DB: ${missing.join(', ')}`, apply);
  const known = new Set(state.expected);
  const unknown = state.applied.filter((m) => !known.has(m));
  if (unknown.length) {
    return warn('migrations', `DB has migrations this Worker does not know (${unknown.join(', ')}): the deployed code is older than the schema`, 'deploy the code the migrations came from: npm run build:web && npx wrangler deploy');
  }
  return ok('migrations', `all ${state.expected.length} migrations are applied`);
}
