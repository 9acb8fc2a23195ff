import { z } from 'zod';
import { AgentError } from './errors';
import type { PriceTable } from './pricing';

/**
 * The variables that configure the agents (wrangler vars and secrets, `.dev.vars`, or a tenant's
 * settings layered on top). All optional: nothing set means the deterministic stub.
 */
export interface AgentSettings {
  LLM_PROVIDER?: string;
  LLM_MODEL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  ANTHROPIC_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  /** Per request attempt, in ms (default 60000). */
  LLM_TIMEOUT_MS?: string;
  /** SDK retries on 429, 5xx and dropped connections (default 2, at most 5). */
  LLM_MAX_RETRIES?: string;
  /** JSON `{ "<model>": { "input": <usd per 1M>, "output": <usd per 1M> } }`, overriding the built-in table. */
  LLM_PRICES?: string;
  /** How Anthropic models answer in a schema: `tool` (a forced tool call), `json_schema` (native JSON output) or `auto` (by model). */
  ANTHROPIC_OUTPUT_MODE?: string;
}

export interface RemoteConfig {
  model: string;
  apiKey: string;
  baseURL: string;
  /** The base URL is not the vendor's own API (a gateway or a local OpenAI-compatible server). */
  customEndpoint: boolean;
  timeoutMs: number;
  maxRetries: number;
  /** The longest wait a `Retry-After` may impose between retries (default 30 s). */
  maxRetryWaitMs?: number;
  prices: PriceTable;
  /** Anthropic only; absent: chosen by model (`anthropicOutputMode`). */
  outputMode?: 'tool' | 'json_schema';
}

export type AgentConfig =
  | { provider: 'stub'; model: 'stub' }
  | ({ provider: 'openai' } & RemoteConfig)
  | ({ provider: 'anthropic' } & RemoteConfig);

const VENDORS = {
  openai: { keyVar: 'OPENAI_API_KEY', urlVar: 'OPENAI_BASE_URL', defaultURL: 'https://api.openai.com/v1', defaultModel: 'gpt-5.4' },
  anthropic: { keyVar: 'ANTHROPIC_API_KEY', urlVar: 'ANTHROPIC_BASE_URL', defaultURL: 'https://api.anthropic.com', defaultModel: 'claude-sonnet-5-5' },
} as const;

const rate = { input: z.number().nonnegative(), output: z.number().nonnegative() };
const pricesSchema = z.record(
  z.string().min(1),
  z.strictObject({ ...rate, long_prompt: z.strictObject({ above_input_tokens: z.number().int().positive(), ...rate }).optional() }),
);

function configError(message: string): AgentError {
  return new AgentError('config', message);
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw configError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function prices(raw: string | undefined): PriceTable {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw configError('LLM_PRICES must be JSON such as {"my-model": {"input": 0.5, "output": 1.5}}');
  }
  const result = pricesSchema.safeParse(parsed);
  if (!result.success) throw configError(`LLM_PRICES: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  return result.data;
}

function baseURL(name: string, raw: string | undefined, fallback: string): string {
  const value = raw?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${name} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(`${name} must be an http(s) URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}

/**
 * Reads and checks the agent configuration. Throws `AgentError('config')` naming the variable at
 * fault — never its value when it is a key — so a misconfigured provider fails the run with a
 * reason instead of falling back to the stub.
 */
export function loadAgentConfig(env: AgentSettings): AgentConfig {
  const provider = (env.LLM_PROVIDER ?? '').trim().toLowerCase() || 'stub';
  if (provider === 'stub') return { provider: 'stub', model: 'stub' };
  if (provider !== 'openai' && provider !== 'anthropic') {
    throw configError(`LLM_PROVIDER must be one of stub, openai, anthropic; got "${env.LLM_PROVIDER}"`);
  }
  const vendor = VENDORS[provider];
  const url = baseURL(vendor.urlVar, env[vendor.urlVar], vendor.defaultURL);
  const customEndpoint = new URL(url).host !== new URL(vendor.defaultURL).host;
  const apiKey = env[vendor.keyVar]?.trim();
  if (!apiKey) {
    const hint = provider === 'openai' ? ' (a local server that needs no key accepts any value, e.g. OPENAI_API_KEY=local)' : '';
    throw configError(`LLM_PROVIDER=${provider} needs ${vendor.keyVar}${hint}`);
  }
  const model = env.LLM_MODEL?.trim();
  if (!model && customEndpoint) throw configError(`LLM_MODEL is required with a custom ${vendor.urlVar} (the server's model name)`);
  return {
    provider,
    model: model || vendor.defaultModel,
    apiKey,
    baseURL: url,
    customEndpoint,
    timeoutMs: integer('LLM_TIMEOUT_MS', env.LLM_TIMEOUT_MS, 60_000, 1_000, 600_000),
    maxRetries: integer('LLM_MAX_RETRIES', env.LLM_MAX_RETRIES, 2, 0, 5),
    prices: prices(env.LLM_PRICES),
    ...(provider === 'anthropic' && outputMode(env.ANTHROPIC_OUTPUT_MODE)),
  };
}

function outputMode(raw: string | undefined): { outputMode?: 'tool' | 'json_schema' } {
  const mode = (raw ?? '').trim().toLowerCase() || 'auto';
  if (mode === 'auto') return {};
  if (mode === 'tool' || mode === 'json_schema') return { outputMode: mode };
  throw configError(`ANTHROPIC_OUTPUT_MODE must be auto, tool or json_schema; got "${raw}"`);
}

/** What the agents use, said for people (`npm start`, via bootstrap): provider, model and endpoint, or why it does not load. */
export const agentConfigSummarySchema = z.object({
  provider: z.string(),
  model: z.string().optional(),
  endpoint: z.string().optional().describe('The provider\'s base URL without any credentials in it'),
  problem: z.string().optional().describe('Why the configuration does not load: runs would fail with this reason'),
});
export type AgentConfigSummary = z.infer<typeof agentConfigSummarySchema>;

export function describeAgentConfig(env: AgentSettings): AgentConfigSummary {
  let config: AgentConfig;
  try {
    config = loadAgentConfig(env);
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    return { provider: (env.LLM_PROVIDER ?? '').trim() || 'stub', problem: err.message };
  }
  if (config.provider === 'stub') return { provider: 'stub', model: 'stub' };
  const url = new URL(config.baseURL);
  url.username = url.password = '';
  return { provider: config.provider, model: config.model, endpoint: url.toString().replace(/\/+$/, '') };
}
