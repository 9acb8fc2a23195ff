// Shared by the end-to-end tests: start/stop a real `wrangler dev` (through scripts/lib.mjs, exactly
// as `npm start` does), call the API over HTTP, poll with deadlines, read local D1.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, applyMigrations, bootstrap, newAdminKey, random, startDev, stopDev } from '../scripts/lib.mjs';

export { ROOT };

/** What the global setup hands to every test file (`inject('e2e')`). */
export interface E2eEnv {
  url: string;
  adminKey: string;
  persistTo: string;
  port: number;
  token: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eEnv;
  }
}

/** Wrangler's output is captured unless E2E_VERBOSE=1 (then it goes to the terminal, logs included). */
const QUIET = process.env.E2E_VERBOSE !== '1';

// ─── Servers ────────────────────────────────────────────────────────────────────────────────

/** A TCP port that nobody listens on right now (never 8787, which `npm start` uses). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    if (port !== 8787) return port;
  }
}

/** Resolves once nothing accepts connections on the port any more (a stopped server really is gone). */
export async function waitPortFree(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (!open) return;
    await sleep(100);
  }
  throw new Error(`port ${port} still accepts connections ${timeoutMs} ms after the server was stopped`);
}

export interface DevServer {
  url: string;
  port: number;
  persistTo: string;
  /** Stops wrangler and workerd (the whole process group) and waits until the port is free. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  pid: number;
}

/** Starts `wrangler dev` on `port` with state in `persistTo` (migrations must already be applied). */
export async function startServer(opts: { port: number; persistTo: string; token: string; vars?: Record<string, string> }): Promise<DevServer> {
  const dev = await startDev({ port: opts.port, persistTo: opts.persistTo, bootstrapToken: opts.token, envFile: undefined, quiet: QUIET, extraVars: opts.vars });
  const pid = dev.child.pid ?? -1;
  // wrangler runs in its own process group (detached): if this process dies without stopping it
  // (an interrupted run, a crashed worker), take the group down rather than leave it listening.
  const killOnExit = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  return {
    url: dev.url,
    port: opts.port,
    persistTo: opts.persistTo,
    pid,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      process.off('exit', killOnExit);
      await stopDev(dev.child, signal);
      await waitPortFree(opts.port);
    },
  };
}

export interface Instance extends DevServer {
  adminKey: string;
  token: string;
  /** Stops the server (if running) and deletes its state. */
  dispose(): Promise<void>;
}

/** A complete, private installation: fresh persist dir, migrations, server, bootstrap with a new admin key. */
/** A fresh instance: migrations, `wrangler dev` (with the deployment variables `vars`), the demo tenant. */
export async function startInstance(label = 'agentrunbook-e2e', vars?: Record<string, string>): Promise<Instance> {
  const persistTo = mkdtempSync(path.join(os.tmpdir(), `${label}-`));
  let server: DevServer | undefined;
  try {
    applyMigrations(persistTo);
    const port = await freePort();
    const token = random(24);
    server = await startServer({ port, persistTo, token, vars });
    const adminKey = newAdminKey();
    const boot = await bootstrap(server.url, token, adminKey, true);
    if (!boot.created) throw new Error(`bootstrap did not create the demo tenant: ${JSON.stringify(boot)}`);
    await relaxBlastRadius(server.url, adminKey);
    const s = server;
    return {
      ...s,
      adminKey,
      token,
      async dispose() {
        await s.stop().catch(() => undefined);
        rmSync(persistTo, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.stop().catch(() => undefined);
    rmSync(persistTo, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The suites share one tenant and cordon many nodes within the hour; the default policy's
 * blast-radius limit (2 cordons/drains per hour) would deny the third. The e2e tenant runs the
 * default policy with that limit raised (the limit itself is tested in test/governance.test.ts).
 */
async function relaxBlastRadius(url: string, adminKey: string): Promise<void> {
  const api = apiClient(url, adminKey);
  const yaml = readFileSync(path.join(ROOT, 'policies', 'default.yaml'), 'utf8').replace(/max: 2\n(\s+)per: 1h/, 'max: 1000\n$1per: 1h');
  if (!yaml.includes('max: 1000')) throw new Error('policies/default.yaml: the blast-radius limit e2e relaxes was not found');
  const created = await api('POST', '/policies', { yaml });
  if (created.status !== 201) throw new Error(`could not save the e2e policy: ${created.text}`);
  const activated = await api('POST', `/policies/${created.body.id}/activate`, { json: {} });
  if (activated.status !== 200) throw new Error(`could not activate the e2e policy: ${activated.text}`);
}

/**
 * A new tenant of the running instance (created with the platform owner's key), running the
 * default policy with the blast-radius limit raised: for suites whose settings (registered
 * clusters, live integrations) must not leak into the shared tenant's runs.
 */
export async function newTenantApi(url: string, ownerKey: string, label: string): Promise<Api> {
  const created = await apiClient(url, ownerKey)('POST', '/tenants', { json: { name: uniqueName(label) } });
  if (created.status !== 201) throw new Error(`POST /tenants answered ${created.status}: ${created.text}`);
  await relaxBlastRadius(url, created.body.admin_key);
  return apiClient(url, created.body.admin_key);
}

// ─── HTTP ───────────────────────────────────────────────────────────────────────────────────

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** A tiny API client bound to a base URL and a key. `yaml` sends raw YAML, `json` a JSON body. */
export function apiClient(url: string, key?: string) {
  return async function call<T = any>(method: string, p: string, opts: { json?: unknown; yaml?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.yaml !== undefined) {
      headers['content-type'] = 'application/yaml';
      body = opts.yaml;
    }
    const res = await fetch(`${url}/api/v1${p}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  };
}
export type Api = ReturnType<typeof apiClient>;

/**
 * A key of another person than the admin (an sre by default): approvals need someone other than
 * the person who started the run, and two keys of one person count as one (DESIGN §14).
 */
export async function secondPersonKey(url: string, adminKey: string, role = 'sre'): Promise<string> {
  const res = await apiClient(url, adminKey)('POST', '/keys', { json: { name: uniqueName('e2e-approver'), role, owner: `${uniqueName('approver')}@example.com` } });
  if (res.status !== 201) throw new Error(`POST /keys answered ${res.status}: ${res.text}`);
  return res.body.key as string;
}

/** A runbook name no other test uses (names are unique per tenant). */
export const uniqueName = (prefix: string) => `${prefix}-${random(4)}`;

/** Saves a runbook as raw YAML; fails the test unless it was created. */
export async function createRunbook(api: Api, yaml: string): Promise<{ id: string; name: string; version: number }> {
  const res = await api('POST', '/runbooks', { yaml });
  if (res.status !== 201) throw new Error(`POST /runbooks answered ${res.status}: ${res.text}`);
  return res.body;
}

export async function startRun(api: Api, runbook: string, inputs: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api('POST', '/runs', { json: { runbook, inputs, ...extra } });
  if (res.status !== 201) throw new Error(`POST /runs answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}

export interface RunStep {
  id: string;
  tool: string;
  status: string;
  attempts: number;
  args?: unknown;
  result?: unknown;
  error?: unknown;
}
export interface Run {
  id: string;
  runbook: string;
  status: string;
  mode: string;
  reason?: string | null;
  inputs?: Record<string, unknown>;
  steps: RunStep[];
}

export async function getRun(api: Api, id: string): Promise<Run> {
  const res = await api<Run>('GET', `/runs/${id}`);
  if (res.status !== 200) throw new Error(`GET /runs/${id} answered ${res.status}: ${res.text}`);
  return res.body;
}

// ─── Waiting ────────────────────────────────────────────────────────────────────────────────

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `probe` until `done(value)` holds, or throws after `timeoutMs` with the last value seen
 * (so a failure says where things stood). Errors thrown by `probe` count as "not yet".
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (done(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const seen = lastError !== undefined ? `last error: ${String(lastError)}` : `last value: ${JSON.stringify(last, null, 1)?.slice(0, 4000)}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; ${seen}`);
}

const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'cancelled']);

/** Polls GET /runs/{id} until the run has one of `statuses` (or ends otherwise: then fails fast). */
export async function waitForRun(api: Api, id: string, statuses: string[], timeoutMs = 30_000): Promise<Run> {
  const run = await pollUntil(`run ${id} to be ${statuses.join(' or ')}`, () => getRun(api, id), (r) => statuses.includes(r.status) || TERMINAL.has(r.status), { timeoutMs });
  if (!statuses.includes(run.status)) throw new Error(`run ${id} ended ${run.status} (wanted ${statuses.join(' or ')}): ${JSON.stringify(run, null, 1).slice(0, 4000)}`);
  return run;
}

// ─── Local D1 ───────────────────────────────────────────────────────────────────────────────

const execFileP = promisify(execFile);

/** Runs one SQL statement against the local D1 in `persistTo` with `wrangler d1 execute` and returns its rows. */
export async function d1Query<T = Record<string, unknown>>(persistTo: string, sql: string): Promise<T[]> {
  const wrangler = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
  const { stdout } = await execFileP(wrangler, ['d1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--json', '--command', sql], {
    cwd: ROOT,
    // The JSON is printed at the "log" level: WRANGLER_LOG=warn (what `npm start` uses) swallows it.
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG: 'log', NO_COLOR: '1', CI: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const start = stdout.indexOf('[');
  if (start < 0) throw new Error(`wrangler d1 execute printed no JSON:\n${stdout}`);
  const out = JSON.parse(stdout.slice(start)) as { results: T[]; success: boolean }[];
  if (!out[0]?.success) throw new Error(`wrangler d1 execute failed:\n${stdout}`);
  return out[0].results;
}

// ─── Browser (the UI suites) ────────────────────────────────────────────────────────────────

/** Debian's Chromium, headless, as the UI suites run it (no sandbox in containers, no GPU, no network chatter). */
export async function launchChromium(): Promise<import('playwright-core').Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Signs a page in through the UI's sign-in form with an API key and waits to leave /login. */
export async function signInUi(page: import('playwright-core').Page, key: string): Promise<void> {
  await page.goto('/login');
  await page.locator('[data-testid="login-key-input"]').fill(key);
  await page.locator('[data-testid="login-submit"]').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** A new tenant created by the platform owner: its id and admin key (for suites that sign in as it). */
export async function createTenant(url: string, ownerKey: string, label: string): Promise<{ id: string; name: string; adminKey: string }> {
  const res = await apiClient(url, ownerKey)('POST', '/tenants', { json: { name: uniqueName(label) } });
  if (res.status !== 201) throw new Error(`POST /tenants answered ${res.status}: ${res.text}`);
  return { id: res.body.id, name: res.body.name, adminKey: res.body.admin_key };
}
