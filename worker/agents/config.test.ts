import { describe, expect, it } from 'vitest';
import { describeAgentConfig, loadAgentConfig } from './config';
import { AgentError } from './errors';

function configError(env: Parameters<typeof loadAgentConfig>[0]): AgentError {
  try {
    loadAgentConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('config');
    return err as AgentError;
  }
  throw new Error('expected a configuration error');
}

describe('agent configuration from the environment', () => {
  it('is the stub when nothing is set', () => {
    expect(loadAgentConfig({})).toEqual({ provider: 'stub', model: 'stub' });
    expect(loadAgentConfig({ LLM_PROVIDER: ' STUB ' })).toEqual({ provider: 'stub', model: 'stub' });
  });

  it('names the missing key of the chosen provider, never falling back to the stub', () => {
    expect(configError({ LLM_PROVIDER: 'openai', ANTHROPIC_API_KEY: 'sk-ant-other' }).message).toMatch(/LLM_PROVIDER=openai needs OPENAI_API_KEY/);
    expect(configError({ LLM_PROVIDER: 'anthropic', OPENAI_API_KEY: 'sk-other' }).message).toMatch(/LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY/);
    expect(configError({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: '   ' }).message).toContain('OPENAI_API_KEY');
  });

  it('rejects an unknown provider', () => {
    expect(configError({ LLM_PROVIDER: 'gemini' }).message).toContain('stub, openai, anthropic');
  });

  it('uses the vendor endpoint and a default model', () => {
    expect(loadAgentConfig({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-x' })).toMatchObject({
      provider: 'openai', model: 'gpt-5.4', baseURL: 'https://api.openai.com/v1', customEndpoint: false, timeoutMs: 60_000, maxRetries: 2,
    });
    expect(loadAgentConfig({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'k', LLM_MODEL: 'claude-haiku-4-5' })).toMatchObject({
      provider: 'anthropic', model: 'claude-haiku-4-5', baseURL: 'https://api.anthropic.com', customEndpoint: false,
    });
  });

  it('takes any OpenAI-compatible server by base URL, which then needs a model name', () => {
    const env = { LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'local', OPENAI_BASE_URL: 'http://localhost:11434/v1/' };
    expect(configError(env).message).toContain('LLM_MODEL is required');
    expect(loadAgentConfig({ ...env, LLM_MODEL: 'llama3.1:8b' })).toMatchObject({ baseURL: 'http://localhost:11434/v1', customEndpoint: true, model: 'llama3.1:8b' });
  });

  it('checks the base URL, timeouts, retries and prices, naming the variable', () => {
    const base = { LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-x' };
    expect(configError({ ...base, OPENAI_BASE_URL: 'ftp://x' }).message).toContain('OPENAI_BASE_URL');
    expect(configError({ ...base, LLM_TIMEOUT_MS: '5s' }).message).toContain('LLM_TIMEOUT_MS');
    expect(configError({ ...base, LLM_MAX_RETRIES: '50' }).message).toContain('LLM_MAX_RETRIES');
    expect(configError({ ...base, LLM_PRICES: '{"m": {"input": -1, "output": 2}}' }).message).toContain('LLM_PRICES');
    expect(loadAgentConfig({ ...base, LLM_PRICES: '{"my-model": {"input": 0.5, "output": 1.5}}', LLM_MAX_RETRIES: '0' })).toMatchObject({
      prices: { 'my-model': { input: 0.5, output: 1.5 } },
      maxRetries: 0,
    });
  });

  it('lets the Anthropic output mode be forced, or chosen by model', () => {
    const base = { LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'k' };
    expect(loadAgentConfig(base)).not.toHaveProperty('outputMode');
    expect(loadAgentConfig({ ...base, ANTHROPIC_OUTPUT_MODE: 'json_schema' })).toMatchObject({ outputMode: 'json_schema' });
    expect(configError({ ...base, ANTHROPIC_OUTPUT_MODE: 'xml' }).message).toContain('ANTHROPIC_OUTPUT_MODE');
  });

  it('never puts a key in an error message', () => {
    const err = configError({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-secret-value-123', LLM_TIMEOUT_MS: 'x' });
    expect(err.message).not.toContain('sk-secret-value-123');
  });
});

describe('describeAgentConfig (what npm start prints)', () => {
  it('names provider, model and endpoint, never the key or credentials in the URL', () => {
    expect(describeAgentConfig({})).toEqual({ provider: 'stub', model: 'stub' });
    const openai = describeAgentConfig({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-secret', OPENAI_BASE_URL: 'http://user:pw@127.0.0.1:9/v1/', LLM_MODEL: 'm' });
    expect(openai).toEqual({ provider: 'openai', model: 'm', endpoint: 'http://127.0.0.1:9/v1' });
    expect(JSON.stringify(openai)).not.toMatch(/sk-secret|pw/);
  });

  it('says why a configuration does not load instead of throwing', () => {
    expect(describeAgentConfig({ LLM_PROVIDER: 'openai' })).toEqual({ provider: 'openai', problem: expect.stringMatching(/needs OPENAI_API_KEY/) });
    expect(describeAgentConfig({ LLM_PROVIDER: 'gemini' })).toEqual({ provider: 'gemini', problem: expect.stringMatching(/must be one of stub, openai, anthropic/) });
  });
});
