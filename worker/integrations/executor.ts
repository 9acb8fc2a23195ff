import type { z } from 'zod';
import { getTool } from '../tools/catalog';
import { IntegrationError, VENDOR_NAMES, scrubSecrets } from './errors';
import { withRetries } from './retry';
import type { LiveExecutor, RetryPolicy, Vendor } from './types';

/** What a tool's live implementation gets besides its arguments. */
export interface CallContext<Client> {
  client: Client;
  /** The call's idempotency key. */
  key: string;
  signal?: AbortSignal;
}

/** A live implementation of one tool; its arguments have been parsed with the tool's schema. */
export type ToolHandler<Client> = (args: never, ctx: CallContext<Client>) => Promise<unknown>;

/**
 * Declares a handler with its argument type. The catalog's schemas are not exported by type, so
 * each handler names the fields it reads; the executor parses them with the real schema first.
 */
export function handler<A, Client>(run: (args: A, ctx: CallContext<Client>) => Promise<unknown>): ToolHandler<Client> {
  return run as ToolHandler<Client>;
}

export interface ExecutorSpec<Client> {
  vendor: Vendor;
  handlers: Record<string, ToolHandler<Client>>;
  /** A client for one call; it carries the call's abort signal. */
  connect(signal?: AbortSignal): Client;
  /** Maps what the SDK threw (an HTTP error, a network failure) to an IntegrationError. */
  classify(err: unknown): IntegrationError;
  /** Every credential value, removed from any message that leaves. */
  secrets: readonly string[];
  retry: RetryPolicy;
}

const describeIssues = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/**
 * Turns a vendor's handlers into a `LiveExecutor`: arguments parsed with the tool's schema,
 * retryable failures retried (safe: every handler is idempotent under the key), the answer
 * checked against the tool's result schema, and every error scrubbed of credentials.
 */
export function createExecutor<Client>(spec: ExecutorSpec<Client>): LiveExecutor {
  const name = VENDOR_NAMES[spec.vendor];
  return async (call) => {
    try {
      const tool = getTool(call.tool);
      const run = spec.handlers[call.tool];
      if (!tool || !run) throw new IntegrationError(spec.vendor, 'unsupported', `${call.tool} has no live ${name} implementation`);
      const args = tool.args.safeParse(call.args);
      if (!args.success) {
        throw new IntegrationError(spec.vendor, 'invalid', `Invalid arguments for ${call.tool}: ${describeIssues(args.error)}`);
      }
      const raw = await withRetries(
        async () => {
          try {
            return await run(args.data as never, { client: spec.connect(call.signal), key: call.idempotencyKey, signal: call.signal });
          } catch (err) {
            throw err instanceof IntegrationError ? err : spec.classify(err);
          }
        },
        spec.retry,
        call.signal,
      );
      const result = tool.result.safeParse(raw);
      if (!result.success) {
        const issues = describeIssues(result.error);
        throw new IntegrationError(spec.vendor, 'bad_response', `${name} answered ${call.tool} in an unexpected shape: ${issues}`);
      }
      return result.data;
    } catch (err) {
      const error = err instanceof IntegrationError ? err : spec.classify(err);
      throw error.withMessage(scrubSecrets(error.message, spec.secrets));
    }
  };
}
