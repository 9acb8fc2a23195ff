import { z } from 'zod';
import { parseDuration } from '../lib/duration';
import { defineTool, durationArg, op } from './define';
import { rng } from './sim';
import { ToolError } from './types';

/** The httpbin convention (`/status/503`) lets a simulated check answer with any status. */
const STATUS_IN_PATH = /\/status\/(\d{3})(?:\/|$)/;

/** Statuses worth retrying: the server may recover or stop throttling. */
function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

const wait = defineTool({
  id: 'core.wait',
  description:
    'Pause the run for a duration. The engine sleeps durably (an alarm), so the wait survives restarts.',
  args: z
    .object({
      duration: durationArg('24h').describe('How long to wait, e.g. "30s", "5m", "1h30m" (at most 24h).'),
    })
    .strict(),
  result: z.object({ waited_ms: z.number().int().nonnegative() }),
  mutating: false,
  risk: 'low',
  dryRun: ({ duration }) => [op('WAIT', 'core:timer', `Sleep for ${duration} (durable timer)`)],
  // The engine performs the sleep itself; the simulation only reports what was asked for.
  simulate: ({ duration }) => ({ waited_ms: parseDuration(duration) ?? 0 }),
});

const httpCheck = defineTool({
  id: 'core.http_check',
  description:
    'GET an allowlisted URL and fail unless it answers with the expected status (retryable on 429 and 5xx).',
  args: z
    .object({
      url: z.url({ protocol: /^https?$/ }).describe('The http(s) URL to GET; it must be on the tenant allowlist.'),
      expect_status: z
        .number()
        .int()
        .min(100)
        .max(599)
        .default(200)
        .describe('The status the check expects (default 200).'),
    })
    .strict(),
  result: z.object({
    url: z.string(),
    status: z.number().int(),
    /** As `Response.ok`: true for 2xx. */
    ok: z.boolean().describe('True for a 2xx status, as fetch reports it.'),
    latency_ms: z.number().int().nonnegative(),
  }),
  mutating: false,
  risk: 'low',
  dryRun: ({ url, expect_status }) => [op('GET', url, `Expect HTTP ${expect_status}`)],
  simulate: ({ url, expect_status }) => {
    const status = Number(STATUS_IN_PATH.exec(new URL(url).pathname)?.[1] ?? 200);
    if (status !== expect_status) {
      throw new ToolError(
        `expected status ${expect_status}, got ${status}`,
        isRetryableStatus(status),
        'unexpected_status',
      );
    }
    return { url, status, ok: status >= 200 && status < 300, latency_ms: rng('http', url).int(18, 240) };
  },
});

export const coreTools = [wait, httpCheck];
