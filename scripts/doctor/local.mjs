// `npm run doctor`'s checks of this checkout: Node, node_modules, .dev.vars, the UI build, local D1
// migrations, wrangler.toml. Each returns `{ id, status, message, fix? }`.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PLACEHOLDER_DATABASE_ID, databaseId, devVarNames, unappliedFromList } from './format.mjs';

const run = promisify(execFile);

/** Secrets `npm start` needs in .dev.vars (it writes them on first start), and the optional ones it also writes. */
const REQUIRED_DEV_VARS = ['AUDIT_HMAC_KEYS', 'SESSION_SECRET', 'SECRETS_KEY'];
const OPTIONAL_DEV_VARS = ['AUDIT_SIGNING_KEY', 'METRICS_TOKEN'];

const ok = (id, message) => ({ id, status: 'ok', message });
const warn = (id, message, fix) => ({ id, status: 'warn', message, fix });
const fail = (id, message, fix) => ({ id, status: 'fail', message, fix });

export function nodeCheck(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  // wrangler, vitest and the relay's Kubernetes client need 22.12 (package.json engines).
  return major > 22 || (major === 22 && minor >= 12) ? ok('node', `Node ${version}`) : fail('node', `Node ${version} is older than 22.12`, 'install Node 24 LTS, or 22.12 or newer (nvm install 24)');
}

export function nodeModulesCheck(root) {
  return existsSync(path.join(root, 'node_modules', '.bin', 'wrangler'))
    ? ok('node_modules', 'node_modules is installed (wrangler found)')
    : fail('node_modules', 'node_modules is missing or incomplete (no wrangler)', 'npm ci');
}

export function devVarsCheck(root) {
  const file = path.join(root, '.dev.vars');
  if (!existsSync(file)) return fail('dev_vars', '.dev.vars is missing: the local Worker has no secrets', 'npm start (writes .dev.vars with random secrets), or copy .dev.vars.example to .dev.vars and fill it in');
  const names = new Set(devVarNames(readFileSync(file, 'utf8')));
  const missing = REQUIRED_DEV_VARS.filter((n) => !names.has(n));
  if (missing.length) return fail('dev_vars', `.dev.vars lacks ${missing.join(', ')}`, 'npm start (adds the missing secrets to .dev.vars), or set them as .dev.vars.example shows');
  const optional = OPTIONAL_DEV_VARS.filter((n) => !names.has(n));
  if (optional.length) return warn('dev_vars', `.dev.vars lacks ${optional.join(', ')} (checkpoints unsigned / metrics off)`, 'npm start (adds them to .dev.vars)');
  return ok('dev_vars', `.dev.vars sets ${[...REQUIRED_DEV_VARS, ...OPTIONAL_DEV_VARS].join(', ')}`);
}

export function webBuildCheck(root) {
  return existsSync(path.join(root, 'web', 'build', 'index.html'))
    ? ok('web_build', 'the UI is built (web/build)')
    : warn('web_build', 'the UI is not built: the Worker serves the API only', 'npm run build:web (npm start does it)');
}

/** The migration files of this checkout, as wrangler names them. */
export function migrationFiles(root) {
  return readdirSync(path.join(root, 'migrations'))
    .filter((f) => f.endsWith('.sql'))
    .sort();
}

/** Local D1 (`.wrangler/state`), asked through wrangler: a few seconds, so only when the server cannot say. */
export async function localMigrationsCheck(root) {
  const wrangler = path.join(root, 'node_modules', '.bin', 'wrangler');
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', CI: 'true' };
  let stdout;
  try {
    ({ stdout } = await run(wrangler, ['d1', 'migrations', 'list', 'DB', '--local'], { cwd: root, env, timeout: 60_000 }));
  } catch (err) {
    return warn('local_migrations', `could not list the local D1 migrations (${String(err.stderr || err.message).trim().split('\n').pop()})`, 'npx wrangler d1 migrations list DB --local');
  }
  const pending = unappliedFromList(stdout);
  return pending.length
    ? fail('local_migrations', `local D1 lacks ${pending.length} migration${pending.length === 1 ? '' : 's'}: ${pending.join(', ')}`, 'npx wrangler d1 migrations apply DB --local (npm start does it)')
    : ok('local_migrations', 'local D1 has every migration applied');
}

/** Deploying needs a real database id in wrangler.toml. */
export function databaseIdCheck(root) {
  const id = databaseId(readFileSync(path.join(root, 'wrangler.toml'), 'utf8'));
  if (!id) return fail('database_id', 'wrangler.toml has no [[d1_databases]] database_id', 'npx wrangler d1 create agentrunbook, then put its database_id under [[d1_databases]] binding = "DB" in wrangler.toml');
  if (id === PLACEHOLDER_DATABASE_ID) return fail('database_id', 'wrangler.toml\'s database_id is still the placeholder', 'npx wrangler d1 create agentrunbook, then put the database_id it prints into wrangler.toml');
  return ok('database_id', `wrangler.toml names D1 database ${id}`);
}

/** This checkout's migrations/ against what the running Worker was built with. */
export function buildMigrationsCheck(files, expected, local) {
  const known = new Set(expected);
  const newer = files.filter((f) => !known.has(f));
  if (!newer.length) return ok('build_migrations', `the running Worker knows every migration in migrations/ (${files.length})`);
  const fix = local
    ? 'restart npm start (it applies migrations and reloads the code)'
    : 'npx wrangler d1 migrations apply DB --remote && npm run build:web && npx wrangler deploy';
  return warn('build_migrations', `migrations/ has ${newer.join(', ')}, which the running Worker was not built with`, fix);
}
