import { describe, expect, it } from 'vitest';
import { RejectionTally } from './rejection-tally';

describe('RejectionTally', () => {
  it('records the first rejection of each window, carrying the count of those it did not record', () => {
    const tally = new RejectionTally();
    expect(tally.add(0, 1000)).toEqual({ record: true, unrecorded: 0 });
    for (let i = 1; i <= 249; i++) expect(tally.add(i, 1000).record).toBe(false);
    expect(tally.add(1000, 1000)).toEqual({ record: true, unrecorded: 249 });
    expect(tally.add(1500, 1000)).toEqual({ record: false, unrecorded: 1 });
    expect(tally.add(5000, 1000)).toEqual({ record: true, unrecorded: 1 });
  });
});
