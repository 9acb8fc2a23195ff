import { redact } from '../lib/redact';
import { AgentError } from './errors';

/** The error classes both vendor SDKs export (they share a generator, so the names match). */
export interface SdkErrorClasses {
  APIError: abstract new (...args: never[]) => Error & { status?: number | undefined };
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
}

/** HTTP statuses that the SDKs retry; seeing one here means the retries are spent. */
function transient(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function scrub(message: string, apiKey: string): string {
  const text = apiKey ? message.split(apiKey).join('[REDACTED]') : message;
  return String(redact(text)).slice(0, 500);
}

/**
 * Maps an SDK failure to an `AgentError`. The provider's own text is kept for a 400 (it names
 * the bad field) but never for 401/403, whose messages may echo part of the key.
 */
export function fromSdkError(err: unknown, classes: SdkErrorClasses, vendor: 'openai' | 'anthropic', model: string, apiKey: string): AgentError {
  const base = { provider: vendor, model, cause: err } as const;
  if (err instanceof AgentError) return err;
  if (err instanceof classes.APIConnectionTimeoutError) return new AgentError('timeout', `${vendor} did not answer in time (after retries)`, base);
  if (err instanceof classes.APIUserAbortError) return new AgentError('unavailable', `The ${vendor} request was aborted`, base);
  if (err instanceof classes.APIConnectionError) {
    return new AgentError('unavailable', `Could not reach ${vendor}: ${scrub(String((err as Error & { cause?: unknown }).cause ?? err.message), apiKey)}`, base);
  }
  if (err instanceof classes.APIError && typeof err.status === 'number') {
    const status = err.status;
    if (status === 401 || status === 403) return new AgentError('rejected', `${vendor} rejected the API key (HTTP ${status})`, { ...base, status });
    const code = transient(status) ? 'unavailable' : 'rejected';
    return new AgentError(code, `${vendor} answered HTTP ${status}: ${scrub(err.message, apiKey)}`, { ...base, status });
  }
  return new AgentError('unavailable', `${vendor} call failed: ${scrub(err instanceof Error ? err.message : String(err), apiKey)}`, base);
}
