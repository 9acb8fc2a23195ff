import { loadAgentConfig } from '../agents/config';
import { AgentError } from '../agents/errors';
import { SigningKeyError, loadSigningKey } from '../audit/signing-key';
import type { Env } from '../env';
import { otlpConfig } from '../observability/otlp';
import { fail, ok, setSecret, warn, type Check, type DoctorContext } from './check';

/** The Durable Object bindings of wrangler.toml and the class each must name. */
export const DO_BINDINGS = { RUNS: 'RunDO', AUDIT: 'AuditDO', LIMITER: 'RateLimiterDO', CLUSTERS: 'ClusterDO' } as const;

function hasMethods(value: unknown, names: string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Each binding is present and of the kind the code expects; D1 answers a query, the assets serve the UI. */
export async function bindingChecks(env: Env): Promise<Check[]> {
  const vars = env as unknown as Record<string, unknown>;
  const out: Check[] = [];
  const dbFix = 'wrangler.toml: [[d1_databases]] binding = "DB" with the database_id that `npx wrangler d1 create agentrunbook` printed';
  if (vars.DB === undefined) out.push(fail('binding.DB', 'DB is not bound', dbFix));
  else if (!hasMethods(vars.DB, ['prepare', 'batch', 'exec'])) out.push(fail('binding.DB', 'DB is bound but is not a D1 database', dbFix));
  else {
    try {
      await env.DB.prepare('SELECT 1').first();
      out.push(ok('binding.DB', 'DB: D1 database answers'));
    } catch (err) {
      out.push(fail('binding.DB', `DB is bound but a query failed: ${reason(err)}`, dbFix));
    }
  }
  for (const [name, cls] of Object.entries(DO_BINDINGS)) {
    const fix = `wrangler.toml: [[durable_objects.bindings]] name = "${name}", class_name = "${cls}" (and ${cls} in a [[migrations]] new_sqlite_classes), then npx wrangler deploy`;
    if (vars[name] === undefined) out.push(fail(`binding.${name}`, `${name} is not bound`, fix));
    else if (!hasMethods(vars[name], ['idFromName', 'get'])) out.push(fail(`binding.${name}`, `${name} is bound but is not a Durable Object namespace`, fix));
    else out.push(ok(`binding.${name}`, `${name}: Durable Object namespace (${cls})`));
  }
  out.push(await assetsCheck(vars.ASSETS));
  return out;
}

async function assetsCheck(assets: unknown): Promise<Check> {
  const fix = 'wrangler.toml: [assets] binding = "ASSETS", directory = "./web/build"; run npm run build:web before npx wrangler deploy';
  if (assets === undefined) return warn('binding.ASSETS', 'ASSETS is not bound: the API works, the UI is not served', fix);
  if (!hasMethods(assets, ['fetch'])) return fail('binding.ASSETS', 'ASSETS is bound but is not an assets binding', fix);
  try {
    const res = await (assets as Fetcher).fetch(new Request('http://assets.invalid/'));
    await res.body?.cancel();
    return res.ok ? ok('binding.ASSETS', 'ASSETS: the UI is served') : warn('binding.ASSETS', `ASSETS answers ${res.status} for /: the UI was not built into the deployment`, fix);
  } catch (err) {
    return warn('binding.ASSETS', `ASSETS could not serve /: ${reason(err)}`, fix);
  }
}

function base64Bytes(text: string): number | undefined {
  try {
    return atob(text.trim()).length;
  } catch {
    return undefined;
  }
}

/** Secrets present and well-formed; messages name secrets and key ids, never values or their lengths. */
export async function secretChecks(env: Env, ctx: DoctorContext): Promise<Check[]> {
  const out: Check[] = [audit(env, ctx)];
  out.push(
    env.SESSION_SECRET
      ? ok('secret.SESSION_SECRET', 'SESSION_SECRET is set')
      : fail('secret.SESSION_SECRET', 'SESSION_SECRET is not set: sign-in and session cookies fail', setSecret(ctx, 'SESSION_SECRET', 'openssl rand -hex 32')),
  );
  const keyFix = setSecret(ctx, 'SECRETS_KEY', 'openssl rand -base64 32');
  if (!env.SECRETS_KEY) out.push(fail('secret.SECRETS_KEY', 'SECRETS_KEY is not set: integration credentials and OIDC client secrets cannot be stored', keyFix));
  else if (base64Bytes(env.SECRETS_KEY) !== 32) out.push(fail('secret.SECRETS_KEY', 'SECRETS_KEY does not decode to 32 bytes of base64', keyFix));
  else out.push(ok('secret.SECRETS_KEY', 'SECRETS_KEY is a 32-byte AES-256 key'));
  if (env.SECRETS_KEY_PREVIOUS !== undefined) {
    // A rotation in progress: both keys open stored secrets until they are all sealed with the new one.
    if (base64Bytes(env.SECRETS_KEY_PREVIOUS) !== 32) {
      out.push(fail('secret.SECRETS_KEY_PREVIOUS', 'SECRETS_KEY_PREVIOUS does not decode to 32 bytes of base64', `put the key SECRETS_KEY held before the rotation: ${setSecret(ctx, 'SECRETS_KEY_PREVIOUS', 'echo <the old key>')}`));
    } else {
      out.push(
        warn(
          'secret.SECRETS_KEY_PREVIOUS',
          'SECRETS_KEY_PREVIOUS is set: a SECRETS_KEY rotation is under way (stored secrets sealed with either key open)',
          ctx.local
            ? 'POST /api/v1/secrets/reseal (platform owner), then delete SECRETS_KEY_PREVIOUS from .dev.vars and restart'
            : 'POST /api/v1/secrets/reseal (platform owner) until it reports 0 unreadable, then npx wrangler secret delete SECRETS_KEY_PREVIOUS',
        ),
      );
    }
  }
  out.push(await signing(env, ctx));
  out.push(
    env.METRICS_TOKEN
      ? ok('secret.METRICS_TOKEN', 'METRICS_TOKEN is set: GET /api/v1/metrics can be scraped')
      : warn('secret.METRICS_TOKEN', 'METRICS_TOKEN is not set: GET /api/v1/metrics answers 503', setSecret(ctx, 'METRICS_TOKEN', 'openssl rand -hex 24')),
  );
  if (!env.BOOTSTRAP_TOKEN) out.push(ok('secret.BOOTSTRAP_TOKEN', 'BOOTSTRAP_TOKEN is not set: POST /api/v1/bootstrap is closed'));
  else if (ctx.local) out.push(ok('secret.BOOTSTRAP_TOKEN', 'BOOTSTRAP_TOKEN is set (npm start sets a fresh one on every start)'));
  else out.push(warn('secret.BOOTSTRAP_TOKEN', 'BOOTSTRAP_TOKEN is still set: whoever holds it can call POST /api/v1/bootstrap', 'after the first tenant exists: npx wrangler secret delete BOOTSTRAP_TOKEN'));
  return out;
}

function audit(env: Env, ctx: DoctorContext): Check {
  const fix = setSecret(ctx, 'AUDIT_HMAC_KEYS', `printf '{"${env.AUDIT_KEY_ID || 'k1'}":"%s"}' "$(openssl rand -hex 32)"`);
  if (!env.AUDIT_HMAC_KEYS) return fail('secret.AUDIT_HMAC_KEYS', 'AUDIT_HMAC_KEYS is not set: nothing can be written to the audit log', fix);
  let keys: unknown;
  try {
    keys = JSON.parse(env.AUDIT_HMAC_KEYS);
  } catch {
    // The parser's message quotes the input: it is not repeated here.
    return fail('secret.AUDIT_HMAC_KEYS', 'AUDIT_HMAC_KEYS is not valid JSON (expected {"<key id>":"<secret>"})', fix);
  }
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) return fail('secret.AUDIT_HMAC_KEYS', 'AUDIT_HMAC_KEYS must be a JSON object of secrets by key id', fix);
  const entries = Object.entries(keys as Record<string, unknown>);
  const ids = entries.map(([id]) => id);
  if (!entries.length || entries.some(([, v]) => typeof v !== 'string' || !v)) return fail('secret.AUDIT_HMAC_KEYS', 'AUDIT_HMAC_KEYS must map each key id to a non-empty string', fix);
  const current = env.AUDIT_KEY_ID || ids[0]!;
  if (!ids.includes(current)) {
    return fail(
      'secret.AUDIT_HMAC_KEYS',
      `AUDIT_KEY_ID "${current}" is not a key of AUDIT_HMAC_KEYS (${ids.join(', ')})`,
      `add "${current}" to AUDIT_HMAC_KEYS (keeping the old ids), or set AUDIT_KEY_ID in wrangler.toml [vars] to one of ${ids.join(', ')}`,
    );
  }
  return ok('secret.AUDIT_HMAC_KEYS', `AUDIT_HMAC_KEYS holds ${ids.length} key${ids.length === 1 ? '' : 's'} (${ids.join(', ')}); new entries use "${current}"`);
}

async function signing(env: Env, ctx: DoctorContext): Promise<Check> {
  const e = env as Env & { AUDIT_SIGNING_KEY_ID?: string };
  const fix = setSecret(ctx, 'AUDIT_SIGNING_KEY', 'openssl genpkey -algorithm ed25519 -outform DER | openssl base64 -A');
  if (!e.AUDIT_SIGNING_KEY) return warn('secret.AUDIT_SIGNING_KEY', 'AUDIT_SIGNING_KEY is not set: audit checkpoints are not signed', fix);
  try {
    const key = await loadSigningKey(e.AUDIT_SIGNING_KEY, e.AUDIT_SIGNING_KEY_ID || undefined);
    return ok('secret.AUDIT_SIGNING_KEY', `AUDIT_SIGNING_KEY loads: checkpoints are signed as "${key.id}"`);
  } catch (err) {
    return fail('secret.AUDIT_SIGNING_KEY', err instanceof SigningKeyError ? err.message : 'AUDIT_SIGNING_KEY does not load as an Ed25519 private key', fix);
  }
}

/** The agents' provider: which one, with its key present (never checked against the vendor here). */
export function llmCheck(env: Env, ctx: DoctorContext): Check {
  const fix = ctx.local
    ? 'set LLM_PROVIDER=openai (or anthropic), LLM_MODEL and OPENAI_API_KEY (or ANTHROPIC_API_KEY) in .dev.vars and restart'
    : 'set LLM_PROVIDER = "openai" (or "anthropic") and LLM_MODEL in wrangler.toml [vars], then npx wrangler secret put OPENAI_API_KEY (or ANTHROPIC_API_KEY) and npx wrangler deploy';
  try {
    const config = loadAgentConfig(env);
    if (config.provider === 'stub') {
      const message = 'LLM_PROVIDER is stub: agents plan deterministically and call no model';
      return ctx.local ? ok('llm.provider', message) : warn('llm.provider', message, fix);
    }
    const keyVar = config.provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY';
    return ok('llm.provider', `LLM_PROVIDER is ${config.provider}, model ${config.model} at ${new URL(config.baseURL).host}; ${keyVar} is set`);
  } catch (err) {
    return fail('llm.provider', err instanceof AgentError ? err.message : 'the agents\' configuration does not load', fix);
  }
}

/** OTLP export is optional: off is fine, a malformed endpoint is not. */
export function otlpCheck(env: Env): Check {
  const e = env as Env & { OTEL_EXPORTER_OTLP_ENDPOINT?: string; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string };
  const configured = Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
  const config = otlpConfig(env);
  if (config) return ok('otlp', `traces are exported over OTLP/HTTP to ${new URL(config.url).host}`);
  if (configured) return warn('otlp', 'the OTLP endpoint is not an http(s) URL: tracing is off', 'set OTEL_EXPORTER_OTLP_ENDPOINT to e.g. https://otlp.example.com (wrangler.toml [vars])');
  return ok('otlp', 'tracing is off (set OTEL_EXPORTER_OTLP_ENDPOINT to export traces)');
}
