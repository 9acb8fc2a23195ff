import { describe, expect, it } from 'vitest';
import { httpError, parseRetryAfter, scrubSecrets, transportError, vendorText } from './errors';
import { adf } from './jira-adf';
import { backoffMs, withRetries } from './retry';
import { DEFAULT_RETRY } from './types';

describe('error classification', () => {
  it('maps statuses to retryable (429, 408, 5xx) and permanent (other 4xx) codes', () => {
    const cases: [number, string, boolean][] = [
      [429, 'rate_limited', true],
      [408, 'unavailable', true],
      [500, 'unavailable', true],
      [503, 'unavailable', true],
      [400, 'invalid', false],
      [401, 'unauthorized', false],
      [403, 'forbidden', false],
      [404, 'not_found', false],
      [409, 'conflict', false],
      [422, 'invalid', false],
      [451, 'rejected', false],
    ];
    for (const [status, code, retryable] of cases) {
      expect(httpError('jira', status, 'x')).toMatchObject({ code, retryable, status });
    }
  });

  it('says what was asked, what the vendor said and how long to wait', () => {
    const err = httpError('github', 429, 'slow down', { operation: 'POST /repos/a/b/issues', retryAfterMs: 1500 });
    expect(err.message).toBe('GitHub answered 429 to POST /repos/a/b/issues: slow down (retry after 2s)');
    expect(httpError('pagerduty', 401, 'Unauthorized').message).toBe('PagerDuty answered 401: Unauthorized — check the integration credentials');
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.UTC(2026, 0, 5, 9, 0, 0);
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 09:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 08:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('tells an abort from a network failure, both retryable', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(transportError('github', abort)).toMatchObject({ code: 'timeout', retryable: true });
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    expect(transportError('jira', refused).message).toBe('Could not reach Jira: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('drops HTML error pages and shortens long messages', () => {
    expect(vendorText('<!DOCTYPE html><html>…</html>', 'HTTP 502')).toBe('HTTP 502');
    expect(vendorText('x'.repeat(1000), '')).toHaveLength(401);
  });

  it('scrubs secrets as given, base64-encoded and token-shaped', () => {
    const text = `token s3cr3t-value, basic ${btoa('me@x.test:s3cr3t-value')}, also ghp_abcdefghijklmnopqrstuvwxyz0123`;
    const out = scrubSecrets(text, ['s3cr3t-value', 'me@x.test:s3cr3t-value']);
    expect(out).not.toMatch(/s3cr3t|ghp_/);
    expect(out).not.toContain(btoa('me@x.test:s3cr3t-value'));
  });
});

describe('withRetries', () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 1, maxDelayMs: 2 };

  it('repeats retryable failures up to the attempts, and stops at a permanent one', async () => {
    let calls = 0;
    const flaky = () => {
      calls += 1;
      return calls < 3 ? Promise.reject(httpError('github', 502, 'x')) : Promise.resolve('ok');
    };
    expect(await withRetries(flaky, policy)).toBe('ok');
    expect(calls).toBe(3);

    calls = 0;
    const denied = () => {
      calls += 1;
      return Promise.reject(httpError('github', 404, 'x'));
    };
    await expect(withRetries(denied, policy)).rejects.toMatchObject({ code: 'not_found' });
    expect(calls).toBe(1);
  });

  it('does not sleep through a Retry-After longer than the policy allows', async () => {
    let calls = 0;
    const limited = () => {
      calls += 1;
      return Promise.reject(httpError('jira', 429, 'x', { retryAfterMs: 120_000 }));
    };
    await expect(withRetries(limited, policy)).rejects.toMatchObject({ retryAfterMs: 120_000 });
    expect(calls).toBe(1);
  });

  it('backs off exponentially with half jitter, capped', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 300 };
    expect([1, 2, 3, 4].map((n) => backoffMs(p, n, () => 0))).toEqual([50, 100, 150, 150]);
    expect(backoffMs(p, 2, () => 0.999)).toBe(200);
  });
});

describe('adf', () => {
  it('turns blank-line paragraphs and single newlines into ADF without empty text nodes', () => {
    expect(adf('one\ntwo\n\n\nthree\n')).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'one' }, { type: 'hardBreak' }, { type: 'text', text: 'two' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'three' }] },
      ],
    });
  });
});
