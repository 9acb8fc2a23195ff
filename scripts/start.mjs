// `npm start`: builds the UI, applies the D1 migrations locally, seeds the demo tenant, the default
// policy and the sample runbooks, and serves API and UI on http://localhost:8787 (or $PORT).
//
// Whatever ends it — Ctrl-C or SIGTERM at any moment of the start-up, a failed step, wrangler
// exiting — it leaves no process behind: `wrangler dev` runs in its own process group (so that
// stopping it takes workerd too), which also means a terminal's Ctrl-C never reaches it, so every
// child is tracked from the moment it is spawned and stopped here.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, adminKeyProblem, bootstrap, ensureDevVars, newAdminKey, random, runStep, startDev, stopDev, writeLocalVars } from './lib.mjs';

const port = Number(process.env.PORT ?? 8787);
/** Where the local D1 and Durable Objects live (default .wrangler/state). */
const persistTo = process.env.AGENTRUNBOOK_STATE || undefined;
const step = (msg) => console.log(`\x1b[36m▸\x1b[0m ${msg}`);
const given = process.env.AGENTRUNBOOK_ADMIN_KEY;

/** The step running now (a build, a migration) and wrangler dev once spawned. */
let current;
let dev;
let stopping = false;

async function shutdown(code, signal = 'SIGTERM') {
  if (stopping) return;
  stopping = true;
  if (current && current.exitCode === null && current.signalCode === null) current.kill(signal);
  if (dev) {
    // A wrangler that ignores the polite signal is killed after 10 s rather than left on the port.
    const killer = setTimeout(() => stopDev(dev, 'SIGKILL'), 10_000);
    await stopDev(dev, signal);
    clearTimeout(killer);
  }
  process.exit(code);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.on(sig, () => shutdown(code, sig === 'SIGHUP' ? 'SIGTERM' : sig));

// `npm start` runs this under `sh -c`: a SIGTERM sent to npm (a supervisor, `kill <pid>`) ends npm and
// the shell but is not passed on to us. Being handed to another parent means whoever started us is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown(143);
}, 250).unref();

function fail(message) {
  console.error(`\n\x1b[31m✗\x1b[0m ${message}`);
  return shutdown(1);
}

async function main() {
  if (given !== undefined) {
    const problem = adminKeyProblem(given);
    if (problem) return fail(problem);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`PORT must be a port number from 1 to 65535, got "${process.env.PORT}"`);

  ensureDevVars();
  if (persistTo) mkdirSync(persistTo, { recursive: true });
  const vars = writeLocalVars(process.env, persistTo);
  const track = (c) => (current = c);
  // npm test builds the UI once and says so; everyone else gets a fresh build.
  if (process.env.AGENTRUNBOOK_WEB_BUILT !== '1' || !existsSync(path.join(ROOT, 'web', 'build', 'index.html'))) {
    step('Building the UI');
    await runStep('build:web', { onSpawn: track });
  }
  step('Applying D1 migrations (local)');
  await runStep('migrations', { persistTo, onSpawn: track });
  current = undefined;
  if (stopping) return;
  step(`Starting the Worker on http://localhost:${port}`);
  const token = random(24);
  const started = await startDev({ port, persistTo, bootstrapToken: token, envFile: vars.file, onSpawn: (c) => (dev = c) });
  started.child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`\nwrangler dev exited (${signal ?? `exit ${code}`})`);
    process.exit(code || 1);
  });

  const key = given ?? newAdminKey();
  const result = await bootstrap(started.url, token, key, !given).catch((err) => {
    // The state already has tenants and another platform owner's key: bootstrap adds no keys to it.
    if (given && /bootstrap failed: 409/.test(String(err))) {
      throw new Error(`AGENTRUNBOOK_ADMIN_KEY is not the platform owner's key of the state in ${persistTo ?? '.wrangler/state'}; use that key, or another AGENTRUNBOOK_STATE`);
    }
    throw err;
  });
  const agents = result.agents;
  const where = (name) => (vars.sources[name] ? ` (${name} from ${vars.sources[name]})` : '');
  if (agents?.problem) return fail(`The agents' configuration does not load: ${agents.problem}${where('LLM_PROVIDER')}`);

  console.log('');
  if (result.created) {
    console.log(`  Demo tenant created (${result.tenant_id}) with the default policy and ${result.runbooks.length} sample runbooks.`);
    if (!given) {
      console.log(`  Admin key (shown once, save it): \x1b[1m${key}\x1b[0m`);
      console.log('  Set AGENTRUNBOOK_ADMIN_KEY to choose your own key next time.');
    }
  } else {
    console.log(`  Demo tenant ${result.tenant_id} is ready.`);
    if (!given) console.log('  Sign in with the admin key printed on the first start (or set AGENTRUNBOOK_ADMIN_KEY).');
  }
  const model = agents.provider === 'stub' ? 'the deterministic stub (no model; set LLM_PROVIDER to use one)' : `${agents.provider}, model ${agents.model} at ${agents.endpoint}`;
  console.log(`  Agents: ${model}${where('LLM_PROVIDER')}`);
  console.log(`  UI:   http://localhost:${port}/`);
  console.log(`  API:  http://localhost:${port}/api/v1   (docs: /api/v1/docs)`);
  console.log('  Stop with Ctrl-C; runs in flight resume on the next start.\n');
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
