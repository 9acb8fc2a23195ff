import type { ErrorCode, RelayErrorBody } from '../contract/protocol';

/**
 * The relay's one throwable: everything that fails a request becomes one, so the response always
 * carries a protocol error code, a message a runbook author can act on, and whether a new attempt
 * may succeed.
 */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable = false,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RelayError';
  }

  toBody(): RelayErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message, retryable: this.retryable }
      : { code: this.code, message: this.message, retryable: this.retryable, details: this.details };
  }
}
