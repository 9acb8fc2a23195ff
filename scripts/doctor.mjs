// `npm run doctor`: checks a local (`npm start`) or deployed installation and says what to fix.
//
//   npm run doctor                                         http://localhost:$PORT (8787), key from AGENTRUNBOOK_ADMIN_KEY
//   npm run doctor -- --url https://runbooks.example.com --key ark_…
//
// This checkout is checked here (Node, node_modules, .dev.vars, the UI build, local D1 or
// wrangler.toml's database id); the installation answers `GET /api/v1/doctor` (bindings, secrets
// by name, migrations, LLM provider, the key's tenant's live integrations and relays).
import { ROOT } from './lib.mjs';
import { USAGE, formatCheck, parseArgs, summarize } from './doctor/format.mjs';
import * as local from './doctor/local.mjs';

let opts;
try {
  opts = parseArgs(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

const color = !opts.json && process.stdout.isTTY && !process.env.NO_COLOR;
const sections = [];
const section = (title, checks) => sections.push({ title, checks });

const fail = (id, message, fix) => ({ id, status: 'fail', message, fix });
const warn = (id, message, fix) => ({ id, status: 'warn', message, fix });
const startHint = opts.local
  ? `start it: ${new URL(opts.url).port && new URL(opts.url).port !== '8787' ? `PORT=${new URL(opts.url).port} ` : ''}npm start (or point the doctor at where it listens: PORT=… or --url)`
  : 'check the URL; deploy with npm run build:web && npx wrangler deploy (docs/deploy.md)';

const NETWORK_ERRORS = { ECONNREFUSED: 'connection refused', ENOTFOUND: 'host not found', ECONNRESET: 'connection reset', timeout: 'no answer in time' };

/** GET a path of the installation; network failures come back as a reason, never a stack trace. */
async function get(path, key, timeoutMs) {
  try {
    const res = await fetch(`${opts.url}/api/v1${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  } catch (err) {
    const cause = String(err?.name === 'TimeoutError' ? 'timeout' : err?.cause?.code ?? err?.cause?.message ?? err);
    return { error: NETWORK_ERRORS[cause] ?? cause };
  }
}

const machine = [local.nodeCheck(), local.nodeModulesCheck(ROOT)];
if (opts.local) machine.push(local.devVarsCheck(ROOT), local.webBuildCheck(ROOT));
else machine.push(local.databaseIdCheck(ROOT));
section('This checkout', machine);

const server = [];
let report;
const health = await get('/healthz', undefined, 10_000);
if (health.error || health.status !== 200) {
  server.push(fail('healthz', `nothing answers at ${opts.url}/api/v1/healthz (${health.error ?? `HTTP ${health.status}`})`, startHint));
} else {
  server.push({ id: 'healthz', status: 'ok', message: `${opts.url} answers /api/v1/healthz` });
  if (!opts.key) {
    server.push(fail('key', 'no admin key: the installation\'s own checks need one', 'set AGENTRUNBOOK_ADMIN_KEY=ark_… or pass --key ark_… (a tenant admin\'s key)'));
  } else {
    const res = await get('/doctor', opts.key, 60_000);
    const why = res.body?.error?.message;
    if (res.error) server.push(fail('doctor', `GET /api/v1/doctor did not answer (${res.error})`, 'retry; if it persists: npx wrangler tail'));
    else if (res.status === 401) server.push(fail('key', `the key is not accepted (${why ?? 'HTTP 401'})`, 'use a current admin key of this installation (POST /api/v1/keys, or the one npm start printed)'));
    else if (res.status === 403) server.push(fail('key', `the key may not run the doctor (${why ?? 'HTTP 403'})`, 'use a key whose role has manage (admin under the default policy)'));
    else if (res.status === 404) server.push(fail('doctor', 'the installation has no GET /api/v1/doctor: it runs older code', 'deploy this version: npm run build:web && npx wrangler deploy'));
    else if (res.status !== 200 || !Array.isArray(res.body?.checks)) server.push(fail('doctor', `GET /api/v1/doctor answered HTTP ${res.status}${why ? `: ${why}` : ''}`, 'npx wrangler tail (deployed) or the npm start terminal (local) shows why'));
    else report = res.body;
  }
}
// Another tenant's admin gets that tenant's part only (integrations, relays): say so, and what to pass instead.
const tenantOnly = report?.scope === 'tenant';
if (tenantOnly) {
  server.push(
    warn(
      'scope',
      "the key is a tenant admin's, not the platform owner's: only its tenant's integrations and relays were checked, not the installation",
      'pass the platform owner\'s key (the admin key POST /bootstrap or npm start made) to check bindings, secrets and migrations too',
    ),
  );
}
if (report && !tenantOnly) server.push(local.buildMigrationsCheck(local.migrationFiles(ROOT), report.migrations?.expected ?? [], opts.local));
// Without the installation's report, local D1 is asked directly (wrangler takes a few seconds).
else if (opts.local) server.push(await local.localMigrationsCheck(ROOT));
section(`Server ${opts.url}`, server);
if (report) section(tenantOnly ? "This key's tenant (GET /api/v1/doctor)" : 'Installation (GET /api/v1/doctor)', report.checks);

const all = sections.flatMap((s) => s.checks);
const summary = summarize(all);
if (opts.json) {
  console.log(JSON.stringify({ ok: summary.exitCode === 0, url: opts.url, checks: all }, null, 2));
} else {
  for (const s of sections) {
    console.log(`\n${color ? `\x1b[1m${s.title}\x1b[0m` : s.title}`);
    for (const c of s.checks) console.log(formatCheck(c, { color }));
  }
  console.log(`\n${summary.line}${summary.fail ? ': fix the ✗ lines above' : ''}.`);
}
process.exit(summary.exitCode);
