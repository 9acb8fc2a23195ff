import { describe, expect, it } from 'vitest';
import { ToolError } from './types';
import { callSimulated } from './test-helpers';

describe('core.http_check (simulated)', () => {
  it('answers 200 by default', async () => {
    expect(await callSimulated('core.http_check', { url: 'https://status.example.com/healthz' })).toMatchObject({
      url: 'https://status.example.com/healthz',
      status: 200,
      ok: true,
    });
  });

  it('a /status/503 URL fails with a retryable error naming both statuses', async () => {
    const call = callSimulated('core.http_check', { url: 'https://httpbin.org/status/503' });
    await expect(call).rejects.toBeInstanceOf(ToolError);
    await expect(call).rejects.toMatchObject({ message: 'expected status 200, got 503', retryable: true });
  });

  it('a 404 when 200 was expected is not worth retrying', async () => {
    await expect(callSimulated('core.http_check', { url: 'https://httpbin.org/status/404' })).rejects.toMatchObject({ retryable: false });
  });

  it('passes when the status is the expected one, even a non-2xx one', async () => {
    expect(await callSimulated('core.http_check', { url: 'http://httpbin.org/status/404', expect_status: 404 })).toMatchObject({
      status: 404,
      ok: false,
    });
  });
});

describe('core.wait (simulated)', () => {
  it('reports the parsed duration; the engine does the sleeping', async () => {
    expect(await callSimulated('core.wait', { duration: '1m30s' })).toEqual({ waited_ms: 90_000 });
    expect(await callSimulated('core.wait', { duration: '24h' })).toEqual({ waited_ms: 86_400_000 });
  });
});
