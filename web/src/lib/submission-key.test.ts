import { describe, expect, it } from 'vitest';
import { submissionKeys } from './submission-key';

describe('submissionKeys', () => {
  it('gives one key to a request sent again, and a new key to a changed request', () => {
    const keys = submissionKeys();
    const first = keys.keyFor({ runbook: 'drain', inputs: { node: 'n1' } });
    expect(first).toMatch(/^ui-[0-9a-f]{32}$/);
    expect(keys.keyFor({ runbook: 'drain', inputs: { node: 'n1' } })).toBe(first);
    const changed = keys.keyFor({ runbook: 'drain', inputs: { node: 'n2' } });
    expect(changed).not.toBe(first);
    expect(keys.keyFor({ runbook: 'drain', inputs: { node: 'n1' } })).not.toBe(first);
  });

  it('starts afresh once a request was answered: the same form sent again is a second run', () => {
    const keys = submissionKeys();
    const first = keys.keyFor({ runbook: 'drain' });
    keys.done();
    expect(keys.keyFor({ runbook: 'drain' })).not.toBe(first);
  });

  it('keys fit the API (1–200 printable ASCII characters, no spaces)', () => {
    const keys = submissionKeys((n) => new Uint8Array(n).fill(255));
    expect(keys.keyFor({})).toMatch(/^[\x21-\x7e]{1,200}$/);
  });
});
