import { describe, expect, it } from 'vitest';
import { databaseId, devVarNames, formatCheck, isLoopback, parseArgs, summarize, unappliedFromList } from './format.mjs';

describe('npm run doctor: arguments', () => {
  it('defaults to the local server on $PORT with the key from AGENTRUNBOOK_ADMIN_KEY', () => {
    expect(parseArgs([], {})).toEqual({ url: 'http://localhost:8787', key: undefined, json: false, help: false, local: true });
    expect(parseArgs([], { PORT: '8795', AGENTRUNBOOK_ADMIN_KEY: 'ark_x' })).toMatchObject({ url: 'http://localhost:8795', key: 'ark_x', local: true });
  });

  it('takes --url and --key (also as --name=value); a deployed URL is not local and keeps only its origin', () => {
    expect(parseArgs(['--url', 'https://runbooks.example.com/ui/', '--key=ark_y', '--json'], { AGENTRUNBOOK_ADMIN_KEY: 'ark_x' })).toEqual({
      url: 'https://runbooks.example.com',
      key: 'ark_y',
      json: true,
      help: false,
      local: false,
    });
    expect(parseArgs(['--url=http://127.0.0.1:9000']).local).toBe(true);
  });

  it('refuses unknown arguments, missing values and non-http URLs', () => {
    expect(() => parseArgs(['--verbose'])).toThrow('unknown argument "--verbose"');
    expect(() => parseArgs(['--key'])).toThrow('--key needs a value');
    expect(() => parseArgs(['--url', 'ftp://x'])).toThrow('must be http(s)');
    expect(() => parseArgs(['--url', 'not a url'])).toThrow('--url must be an http(s) origin');
  });

  it('knows loopback hosts', () => {
    expect(['localhost', 'app.localhost', '127.0.0.1', '[::1]'].every(isLoopback)).toBe(true);
    expect(['runbooks.example.com', '10.0.0.1', '128.0.0.1'].some(isLoopback)).toBe(false);
  });
});

describe('npm run doctor: reading local state', () => {
  it('reads the pending migrations from wrangler d1 migrations list', () => {
    const table = `Migrations to be applied:\n┌──────────┐\n│ Name │\n├──────────┤\n│ 0003_integrations.sql   │\n├──┤\n│ 0004_shadow_evals.sql │\n└──┘`;
    expect(unappliedFromList(table)).toEqual(['0003_integrations.sql', '0004_shadow_evals.sql']);
    expect(unappliedFromList('✅ No migrations to apply!')).toEqual([]);
  });

  it('reads variable names from .dev.vars, skipping comments', () => {
    expect(devVarNames('# c\nAUDIT_HMAC_KEYS={"k1":"x=y"}\n\n  SESSION_SECRET = abc\n# SECRETS_KEY=\n')).toEqual(['AUDIT_HMAC_KEYS', 'SESSION_SECRET']);
  });

  it('reads the database_id of wrangler.toml', () => {
    expect(databaseId('[[d1_databases]]\nbinding = "DB"\ndatabase_id = "abc-123"\n')).toBe('abc-123');
    expect(databaseId('name = "x"')).toBeUndefined();
  });
});

describe('npm run doctor: output', () => {
  it('prints ✓, ! and ✗ lines, with the fix under what is not ok', () => {
    expect(formatCheck({ id: 'a', status: 'ok', message: 'fine', fix: 'ignored' })).toBe('  ✓ fine');
    expect(formatCheck({ id: 'b', status: 'warn', message: 'meh', fix: 'do x' })).toBe('  ! meh\n      fix: do x');
    expect(formatCheck({ id: 'c', status: 'fail', message: 'broken', fix: 'do y' }, { color: true })).toBe('  \x1b[31m✗\x1b[0m broken\n      \x1b[2mfix: do y\x1b[0m');
  });

  it('exits non-zero only when something failed', () => {
    const c = (status) => ({ id: status, status, message: status });
    expect(summarize([c('ok'), c('warn')])).toMatchObject({ exitCode: 0, line: '1 check ok, 1 warning, 0 failures' });
    expect(summarize([c('ok'), c('ok'), c('fail')])).toMatchObject({ exitCode: 1, line: '2 checks ok, 0 warnings, 1 failure' });
  });
});

describe('npm run doctor: the checkout', () => {
  it('wants the Node the toolchain needs (22.12 or newer), naming what to install', async () => {
    const { nodeCheck } = await import('./local.mjs');
    expect(nodeCheck('24.21.0').status).toBe('ok');
    expect(nodeCheck('22.12.0').status).toBe('ok');
    expect(nodeCheck('22.11.0')).toMatchObject({ status: 'fail', message: 'Node 22.11.0 is older than 22.12', fix: expect.stringMatching(/Node 24/) });
    expect(nodeCheck('20.20.2').status).toBe('fail');
  });
});
