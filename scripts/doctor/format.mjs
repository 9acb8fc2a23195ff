// The pure parts of `npm run doctor`: arguments, reading wrangler's output and .dev.vars, and the
// printed report. A check is `{ id, status: 'ok' | 'warn' | 'fail', message, fix? }`, the same
// shape `GET /api/v1/doctor` answers with.

export const USAGE = `Usage: npm run doctor [-- --url <origin>] [--key <ark_…>] [--json]

Checks an AgentRunbook installation and says what to fix.
  --url   where it runs (default http://localhost:$PORT, PORT defaulting to 8787)
  --key   a tenant admin key (default $AGENTRUNBOOK_ADMIN_KEY)
  --json  print the checks as JSON instead of lines
Exits 1 when a check fails (warnings do not).`;

/** A loopback origin: the installation is `npm start`'s `wrangler dev`, secrets in .dev.vars. */
export function isLoopback(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * `--url`, `--key`, `--json`, `--help` (also as `--name=value`), with defaults from the
 * environment. Throws an Error with a usage hint for anything else.
 */
export function parseArgs(argv, env = {}) {
  const out = { url: `http://localhost:${env.PORT || 8787}`, key: env.AGENTRUNBOOK_ADMIN_KEY || undefined, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--url') out.url = value();
    else if (flag === '--key') out.key = value();
    else if (flag === '--json') out.json = true;
    else if (flag === '--help' || flag === '-h') out.help = true;
    else throw new Error(`unknown argument "${arg}"`);
  }
  let url;
  try {
    url = new URL(out.url);
  } catch {
    throw new Error(`--url must be an http(s) origin such as https://runbooks.example.com, got "${out.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url must be http(s), got "${out.url}"`);
  out.url = url.origin;
  out.local = isLoopback(url.hostname);
  return out;
}

/** The migration files `wrangler d1 migrations list` says are not applied yet (empty: all applied). */
export function unappliedFromList(output) {
  if (/No migrations to apply/i.test(output)) return [];
  return [...output.matchAll(/│\s*([\w.-]+\.sql)\s*│/g)].map((m) => m[1]);
}

/** The variable names a .dev.vars file sets (values are never read further). */
export function devVarNames(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => /^([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(l)?.[1])
    .filter(Boolean);
}

/** wrangler.toml's D1 `database_id` (the repository ships a placeholder of zeros). */
export function databaseId(toml) {
  return /^\s*database_id\s*=\s*"([^"]*)"/m.exec(toml)?.[1];
}
export const PLACEHOLDER_DATABASE_ID = '00000000-0000-0000-0000-000000000000';

const MARK = { ok: '✓', warn: '!', fail: '✗' };
const COLOR = { ok: 32, warn: 33, fail: 31 };

/** One check as printed: a mark, the message, and on the next line the fix when it is not ok. */
export function formatCheck(check, { color = false } = {}) {
  const paint = (code, s) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const head = `  ${paint(COLOR[check.status], MARK[check.status])} ${check.message}`;
  return check.status !== 'ok' && check.fix ? `${head}\n      ${paint(2, `fix: ${check.fix}`)}` : head;
}

/** Counts and the exit code: 1 when anything failed. */
export function summarize(checks) {
  const count = (s) => checks.filter((c) => c.status === s).length;
  const [ok, warn, fail] = [count('ok'), count('warn'), count('fail')];
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const line = `${plural(ok, 'check')} ok, ${plural(warn, 'warning')}, ${plural(fail, 'failure')}`;
  return { ok, warn, fail, line, exitCode: fail ? 1 : 0 };
}
