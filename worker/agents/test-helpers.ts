import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Policy } from '../policy/schema';
import { checkPolicyYaml } from '../policy/validate';
import { parseRunbook } from '../runbooks/parse';
import type { Runbook } from '../runbooks/types';
import type { RemoteConfig } from './config';
import { AgentError } from './errors';

const RUNBOOKS = new URL('../../runbooks/', import.meta.url);
const POLICIES = new URL('../../policies/', import.meta.url);

export const SAMPLE_RUNBOOKS = readdirSync(RUNBOOKS).filter((name) => name.endsWith('.yaml')).sort();

export function sampleRunbook(file: string): Runbook {
  const result = parseRunbook(readFileSync(new URL(file, RUNBOOKS), 'utf8'));
  if (!result.ok) throw new Error(`${file}: ${JSON.stringify(result.errors)}`);
  return result.runbook;
}

export function runbookFrom(yaml: string): Runbook {
  const result = parseRunbook(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.runbook;
}

export function defaultPolicy(): Policy {
  const checked = checkPolicyYaml(readFileSync(new URL('default.yaml', POLICIES), 'utf8'));
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.policy;
}

/** A provider configuration pointing at a fake server. */
export function remote(baseURL: string, apiKey: string, over: Partial<RemoteConfig> = {}): RemoteConfig {
  return { model: 'gpt-4.1-mini', apiKey, baseURL, customEndpoint: false, timeoutMs: 5_000, maxRetries: 2, prices: {}, ...over };
}

export async function failure(promise: Promise<unknown>): Promise<AgentError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}
