// Shared by scripts/start.mjs, the end-to-end tests and the benchmark: prepares local state
// and runs `wrangler dev` the way `npm start` does.
import { spawn, execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
// No network here or in CI: skip wrangler's metrics and miniflare's download of the Request.cf sample.
const quietEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_LOG: process.env.WRANGLER_LOG ?? 'warn', NO_COLOR: '1' };

const random = (n) => randomBytes(n).toString('hex');
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
export function newAdminKey() {
  // Bytes of 252 and above are dropped so every character is equally likely.
  return 'ark_' + [...randomBytes(80)].filter((b) => b < 252).slice(0, 40).map((b) => ALPHABET[b % 36]).join('');
}

/**
 * `.dev.vars` holds the local secrets (audit HMAC key, session secret). They are generated once
 * and kept, so the audit chain written today still verifies after a restart. Never committed.
 */
export function ensureDevVars(file = path.join(ROOT, '.dev.vars')) {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = existing.split('\n').filter(Boolean);
  const want = {
    AUDIT_HMAC_KEYS: () => `{"k1":"${random(32)}"}`,
    SESSION_SECRET: () => random(32),
    // 32 bytes for AES-256-GCM of stored credentials.
    SECRETS_KEY: () => randomBytes(32).toString('base64'),
    // Ed25519 private key (PKCS#8, base64) that signs the audit log's checkpoints.
    AUDIT_SIGNING_KEY: () => generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    // What Prometheus sends to scrape GET /api/v1/metrics (Authorization: Bearer …).
    METRICS_TOKEN: () => random(24),
  };
  let changed = false;
  for (const [name, make] of Object.entries(want)) {
    if (!lines.some((l) => l.startsWith(`${name}=`))) {
      lines.push(`${name}=${make()}`);
      changed = true;
    }
  }
  if (changed) writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

export function buildWeb() {
  execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export function applyMigrations(persistTo) {
  const args = ['d1', 'migrations', 'apply', 'DB', '--local'];
  if (persistTo) args.push('--persist-to', persistTo);
  execFileSync(WRANGLER, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...quietEnv, CI: 'true' } });
}

/** Starts `wrangler dev`; resolves once /api/v1/healthz answers. */
export async function startDev({ port, persistTo, bootstrapToken, envFile, quiet = false, extraVars = {} }) {
  const args = ['dev', '--port', String(port), '--ip', '127.0.0.1', '--show-interactive-dev-session=false'];
  if (persistTo) args.push('--persist-to', persistTo);
  if (envFile) args.push('--env-file', envFile);
  for (const [k, v] of Object.entries({ BOOTSTRAP_TOKEN: bootstrapToken, ...extraVars })) if (v) args.push('--var', `${k}:${v}`);
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: quietEnv, stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'pipe' : 'inherit'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${stderr}`);
    try {
      const res = await fetch(`${url}/api/v1/healthz`);
      if (res.ok) return { child, url, stop: () => stopDev(child) };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopDev(child);
  throw new Error(`wrangler dev did not answer on ${url} within 90 s:\n${stderr}`);
}

/** Stops wrangler dev and its workerd children (they share its process group). */
export function stopDev(child, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    try {
      process.kill(-child.pid, signal);
    } catch {
      resolve();
    }
  });
}

/** Creates the demo tenant (or, if it exists, makes sure the key works) with the sample runbooks. */
export async function bootstrap(url, token, adminKey, onlyIfEmpty) {
  const res = await fetch(`${url}/api/v1/bootstrap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-bootstrap-token': token },
    body: JSON.stringify({ admin_key: adminKey, only_if_empty: onlyIfEmpty }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`bootstrap failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export { random };
