import { describe, expect, it } from 'vitest';
// The parser wrangler reads `--env-file` and `.dev.vars` with (a dependency of wrangler's).
import dotenv from 'dotenv';
import { ADMIN_KEY_RULE as WORKER_RULE } from '../worker/auth/keys';
import { ADMIN_KEY_RULE, adminKeyProblem, envLine, mergeLocalVars, newAdminKey, SHELL_SETTINGS } from './lib.mjs';

describe('npm start: variables from the shell', () => {
  it('a provider set in the shell wins over .dev.vars; everything else in .dev.vars is kept as written', () => {
    const devVars = 'AUDIT_HMAC_KEYS={"k1":"abc"}\nLLM_PROVIDER=stub\n# a comment\nLLM_MODEL=local-model\nSESSION_SECRET=s3cret\n';
    const { text, sources } = mergeLocalVars(devVars, { LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-1', OPENAI_BASE_URL: 'http://127.0.0.1:1234/v1', PATH: '/usr/bin', HOME: '/root' });
    expect(dotenv.parse(text)).toEqual({
      AUDIT_HMAC_KEYS: '{"k1":"abc"}',
      LLM_MODEL: 'local-model',
      SESSION_SECRET: 's3cret',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-1',
      OPENAI_BASE_URL: 'http://127.0.0.1:1234/v1',
    });
    expect(sources).toEqual({ LLM_PROVIDER: 'environment', OPENAI_API_KEY: 'environment', OPENAI_BASE_URL: 'environment', LLM_MODEL: '.dev.vars' });
  });

  it('only the documented settings are taken from the shell, never the generated secrets or the rest of the environment', () => {
    const { text } = mergeLocalVars('SESSION_SECRET=kept\n', { SESSION_SECRET: 'from-shell', AUDIT_HMAC_KEYS: 'x', PATH: '/bin', LOG_LEVEL: 'warn' });
    expect(dotenv.parse(text)).toEqual({ SESSION_SECRET: 'kept', LOG_LEVEL: 'warn' });
    for (const name of SHELL_SETTINGS) expect(name).not.toMatch(/^(AUDIT_HMAC_KEYS|SESSION_SECRET|SECRETS_KEY|AUDIT_SIGNING_KEY|METRICS_TOKEN|BOOTSTRAP_TOKEN)$/);
  });

  it('an empty value in the shell unsets the file\'s', () => {
    const { text } = mergeLocalVars('OPENAI_API_KEY=sk-old\n', { OPENAI_API_KEY: '' });
    expect(dotenv.parse(text)).toEqual({ OPENAI_API_KEY: '' });
  });

  it('values come back exactly as given: quotes, JSON, #, spaces, several lines', () => {
    for (const value of ['{"m":{"input":1,"output":2}}', "it's", 'a "b" \'c\'', 'x # not a comment', '  padded  ', 'line 1\nline 2', 'Authorization=Bearer abc,x-k=v']) {
      expect(dotenv.parse(envLine('V', value)).V, value).toBe(value);
    }
    expect(() => envLine('V', 'a\'b"c`d')).toThrow(/V:/);
  });
});

describe('npm start: AGENTRUNBOOK_ADMIN_KEY', () => {
  it('is checked with the same rule the server applies at bootstrap', () => {
    expect(ADMIN_KEY_RULE.pattern.source).toBe(WORKER_RULE.pattern.source);
    expect(ADMIN_KEY_RULE.pattern.flags).toBe(WORKER_RULE.pattern.flags);
    expect(ADMIN_KEY_RULE.message).toBe(WORKER_RULE.message);
  });

  it('names the rule a malformed key breaks; generated keys pass', () => {
    expect(adminKeyProblem('bad')).toMatch(/AGENTRUNBOOK_ADMIN_KEY must look like ark_ followed by 20–100 letters or digits/);
    expect(adminKeyProblem('ark_short')).toBeDefined();
    expect(adminKeyProblem(`ark_${'a'.repeat(20)}-`)).toBeDefined();
    expect(adminKeyProblem(newAdminKey())).toBeUndefined();
  });
});
