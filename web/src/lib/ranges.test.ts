import { describe, expect, it } from 'vitest';
import { resolveRange } from './ranges';

const NOW = Date.parse('2025-03-10T12:00:00.000Z');
const at = (q: string) => resolveRange(new URLSearchParams(q), NOW);

describe('analytics ranges', () => {
  it('defaults to the last 7 days, ending now, bucket left to the API', () => {
    expect(at('')).toMatchObject({ id: '7d', from: '2025-03-03T12:00:00.000Z', to: '2025-03-10T12:00:00.000Z', bucket: undefined });
  });

  it('reads a preset and a bucket', () => {
    expect(at('range=24h&bucket=hour')).toMatchObject({ id: '24h', from: '2025-03-09T12:00:00.000Z', bucket: 'hour' });
  });

  it('takes custom dates as whole UTC days, the end day included', () => {
    expect(at('from=2025-02-01&to=2025-02-03')).toMatchObject({ id: 'custom', from: '2025-02-01T00:00:00.000Z', to: '2025-02-04T00:00:00.000Z' });
  });

  it('falls back to the default for unreadable or reversed dates and unknown values', () => {
    expect(at('from=2025-02-05&to=2025-02-01').id).toBe('7d');
    expect(at('from=yesterday&to=today&range=1y&bucket=minute')).toMatchObject({ id: '7d', bucket: undefined });
  });
});
