// `npm start`: builds the UI, applies the D1 migrations locally, seeds the demo tenant, the default
// policy and the sample runbooks, and serves API and UI on http://localhost:8787 (or $PORT).
import { applyMigrations, bootstrap, buildWeb, ensureDevVars, newAdminKey, random, startDev, stopDev } from './lib.mjs';

const port = Number(process.env.PORT ?? 8787);
const step = (msg) => console.log(`\x1b[36m▸\x1b[0m ${msg}`);

ensureDevVars();
step('Building the UI');
buildWeb();
step('Applying D1 migrations (local)');
applyMigrations();
step(`Starting the Worker on http://localhost:${port}`);
const token = random(24);
const dev = await startDev({ port, bootstrapToken: token });

const given = process.env.AGENTRUNBOOK_ADMIN_KEY;
const key = given ?? newAdminKey();
const result = await bootstrap(dev.url, token, key, !given);
console.log('');
if (result.created) {
  console.log(`  Demo tenant created (${result.tenant_id}) with the default policy and ${result.runbooks.length} sample runbooks.`);
  if (!given) {
    console.log(`  Admin key (shown once, save it): \x1b[1m${key}\x1b[0m`);
    console.log('  Set AGENTRUNBOOK_ADMIN_KEY to choose your own key next time.');
  }
} else {
  console.log(`  Demo tenant ${result.tenant_id} is ready${result.key_added ? '; AGENTRUNBOOK_ADMIN_KEY was added as an admin key' : ''}.`);
  if (!given) console.log('  Sign in with the admin key printed on the first start (or set AGENTRUNBOOK_ADMIN_KEY).');
}
console.log(`  UI:   http://localhost:${port}/`);
console.log(`  API:  http://localhost:${port}/api/v1   (docs: /api/v1/docs)`);
console.log('  Stop with Ctrl-C; runs in flight resume on the next start.\n');

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await stopDev(dev.child, sig);
    process.exit(0);
  });
}
dev.child.on('exit', (code) => process.exit(code ?? 0));
