// Shared by scripts/start.mjs, the end-to-end tests and the benchmark: prepares local state
// and runs `wrangler dev` the way `npm start` does.
import { spawn, execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Same rule as worker/auth/keys.ts ADMIN_KEY_RULE (a unit test holds the two together). */
export const ADMIN_KEY_RULE = { pattern: /^ark_[a-z0-9]{20,100}$/i, message: 'must look like ark_ followed by 20–100 letters or digits' };

/** Why `key` cannot be an admin key, or undefined when it can. */
export function adminKeyProblem(key) {
  return ADMIN_KEY_RULE.pattern.test(key) ? undefined : `AGENTRUNBOOK_ADMIN_KEY ${ADMIN_KEY_RULE.message} (e.g. ark_$(openssl rand -hex 20))`;
}

/**
 * The documented settings (README "Configuration", .dev.vars.example) that `npm start` also takes
 * from its own environment: `LLM_PROVIDER=openai OPENAI_API_KEY=… npm start` must use OpenAI.
 * The generated secrets (audit and session keys…) stay in `.dev.vars` only.
 */
export const SHELL_SETTINGS = [
  'LLM_PROVIDER', 'LLM_MODEL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL',
  'LLM_TIMEOUT_MS', 'LLM_MAX_RETRIES', 'LLM_PRICES', 'ANTHROPIC_OUTPUT_MODE',
  'RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_BURST', 'LOG_LEVEL',
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_TRACES_SAMPLER_ARG',
];

const ENV_LINE = /^\s*(?:export\s+)?([\w.-]+)\s*=/;

/** One `NAME=value` line that wrangler's dotenv parser reads back as exactly `value`. */
export function envLine(name, value) {
  if (value.includes('\n') || value.includes('\r')) {
    if (value.includes('"') || value.includes('\\n')) throw new Error(`${name}: a value over several lines cannot also hold " or \\n`);
    return `${name}="${value.replace(/\r?\n/g, '\\n')}"`;
  }
  for (const q of ["'", '"', '`']) if (!value.includes(q)) return `${name}=${q}${value}${q}`;
  throw new Error(`${name}: a value holding ', " and \` at once cannot be passed to wrangler`);
}

/**
 * The variables for `wrangler dev`: `.dev.vars` as it is, with every SHELL_SETTINGS variable set in
 * `shellEnv` taking precedence (an empty value counts as set: it unsets the file's). Returns the file's
 * text and, per setting, where its value came from.
 */
export function mergeLocalVars(devVarsText, shellEnv) {
  const fromShell = SHELL_SETTINGS.filter((name) => shellEnv[name] !== undefined);
  const sources = {};
  const kept = [];
  for (const line of devVarsText.split('\n')) {
    const name = ENV_LINE.exec(line)?.[1];
    if (name && fromShell.includes(name)) continue;
    if (name && SHELL_SETTINGS.includes(name)) sources[name] = '.dev.vars';
    if (line.trim()) kept.push(line);
  }
  for (const name of fromShell) sources[name] = 'environment';
  const lines = [...kept, ...fromShell.map((name) => envLine(name, shellEnv[name]))];
  return { text: lines.join('\n') + '\n', sources };
}

/**
 * Writes the merged variables to `start.env` in `dir` (default `.wrangler`, git-ignored; mode 0600:
 * it holds keys) for `wrangler dev --env-file`, which then reads it instead of `.dev.vars`. Keys never
 * go on a command line.
 */
export function writeLocalVars(shellEnv = process.env, dir = path.join(ROOT, '.wrangler'), devVarsFile = path.join(ROOT, '.dev.vars')) {
  const merged = mergeLocalVars(existsSync(devVarsFile) ? readFileSync(devVarsFile, 'utf8') : '', shellEnv);
  const file = path.join(dir, 'start.env');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, merged.text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, sources: merged.sources };
}

function migrationArgs(persistTo) {
  const args = ['d1', 'migrations', 'apply', 'DB', '--local'];
  if (persistTo) args.push('--persist-to', persistTo);
  return args;
}

export function applyMigrations(persistTo) {
  execFileSync(WRANGLER, migrationArgs(persistTo), { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...quietEnv, CI: 'true' } });
}

/**
 * The start-up steps as child processes that a signal handler can stop: `onSpawn` is handed each
 * child as it starts. Resolves when it exits 0; rejects naming the step otherwise.
 */
export function runStep(what, { persistTo, onSpawn } = {}) {
  const [cmd, args, env] =
    what === 'build:web' ? ['npm', ['run', '--silent', 'build:web'], process.env] : [WRANGLER, migrationArgs(persistTo), { ...quietEnv, CI: 'true' }];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    onSpawn?.(child);
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${signal ?? `exit ${code}`})`))));
  });
}

/**
 * Starts `wrangler dev`; resolves once /api/v1/healthz answers.
 * @param {{ port: number, persistTo?: string, bootstrapToken?: string, envFile?: string, quiet?: boolean,
 *   extraVars?: Record<string, string>, onSpawn?: (child: import('node:child_process').ChildProcess) => void }} opts
 */
export async function startDev({ port, persistTo, bootstrapToken, envFile, quiet = false, extraVars = {}, onSpawn }) {
  const args = ['dev', '--port', String(port), '--ip', '127.0.0.1', '--show-interactive-dev-session=false'];
  if (persistTo) args.push('--persist-to', persistTo);
  if (envFile) args.push('--env-file', envFile);
  // wrangler dev runs on a developer's machine: local vendors and identity providers are allowed.
  for (const [k, v] of Object.entries({ BOOTSTRAP_TOKEN: bootstrapToken, ALLOW_PRIVATE_NETWORK: 'true', ...extraVars })) if (v) args.push('--var', `${k}:${v}`);
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: quietEnv, stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'pipe' : 'inherit'], detached: true });
  // Detached (its own process group, so stopDev takes workerd down with it): a terminal's Ctrl-C
  // does not reach it, so the caller needs the child now, not once it answers.
  onSpawn?.(child);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`wrangler dev exited (${child.signalCode ?? child.exitCode}):\n${stderr}`);
    try {
      const res = await fetch(`${url}/api/v1/healthz`);
      if (res.ok) return { child, url, stop: () => stopDev(child) };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopDev(child);
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
