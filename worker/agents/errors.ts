import type { ProviderName, Usage } from './provider';

/**
 * Why an agent call failed. `unavailable` and `timeout` are what is left after the SDK's own
 * bounded retries (429, 5xx, dropped connections); `rejected` is a request the provider refused
 * (400, 401, 403, 404), which no retry would fix.
 */
export type AgentErrorCode = 'config' | 'unavailable' | 'timeout' | 'rejected' | 'refusal' | 'invalid_output' | 'truncated';

const ZERO: Usage = { input_tokens: 0, output_tokens: 0 };

/**
 * The one error the agents layer throws. It carries the tokens and cost already spent (a repair
 * attempt that still failed was paid for), so the run's budget is charged even when a call fails.
 */
export class AgentError extends Error {
  readonly usage: Usage;
  readonly cost_usd: number;
  readonly provider?: ProviderName;
  readonly model?: string;
  /** HTTP status of the provider's last answer, when there was one. */
  readonly status?: number;

  constructor(
    readonly code: AgentErrorCode,
    message: string,
    extra: { usage?: Usage; cost_usd?: number; provider?: ProviderName; model?: string; status?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'AgentError';
    this.usage = extra.usage ?? ZERO;
    this.cost_usd = extra.cost_usd ?? 0;
    if (extra.provider !== undefined) this.provider = extra.provider;
    if (extra.model !== undefined) this.model = extra.model;
    if (extra.status !== undefined) this.status = extra.status;
  }

  /** The same error with what was spent on it so far. */
  withSpend(usage: Usage, cost_usd: number): AgentError {
    return new AgentError(this.code, this.message, {
      usage,
      cost_usd,
      ...(this.provider !== undefined && { provider: this.provider }),
      ...(this.model !== undefined && { model: this.model }),
      ...(this.status !== undefined && { status: this.status }),
      cause: this.cause,
    });
  }
}
