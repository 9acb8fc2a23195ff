import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText } from './redact';
import { replaceJwts, replacePrivateKeys, type ScanStats } from './redact-scan';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ0ZW5fMSIsInN1YiI6InNlc18xIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END RSA PRIVATE KEY-----';
const KB256 = 256 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(KB256 / unit.length)).slice(0, KB256);

/** Texts built to make a backtracking pattern retry from every position. */
const ADVERSARIAL: Record<string, string> = {
  'JWT starts chained by dashes': fill('-eyJ'),
  'JWT header and payload without a signature': fill('eyJaaaaaaaaaaa.eyJbbbbbbbbbbb.'.replace(/\.$/, '-')),
  'JWT headers chained by dots': fill('eyJaaaaaaaaaaa.'),
  'PEM BEGIN lines without an END': fill('-----BEGIN PRIVATE KEY-----\n'),
  'PEM END lines with long labels': fill('-----BEGIN PRIVATE KEY-----' + '-----END ' + 'A'.repeat(40)),
  'bearer words without tokens': fill('Bearer Bearer '),
  'short prefixed tokens': fill('sk-ghp_xoxb-ark_ATATT '),
  'URL userinfo without @': fill('://a:b:c'),
  'query secrets': fill('?token=&key='),
};

describe('redaction in linear time', () => {
  it('the JWT and PEM scanners look at each character a bounded number of times, whatever the text', () => {
    for (const [name, text] of Object.entries(ADVERSARIAL)) {
      const stats: ScanStats = { visited: 0 };
      replaceJwts(text, REDACTED, stats);
      replacePrivateKeys(text, REDACTED, stats);
      expect(stats.visited, name).toBeLessThanOrEqual(6 * text.length + 16);
    }
  });

  it('redacts a 256 KB hostile argument at once, and still finds the credential hidden at its end', () => {
    for (const [name, text] of Object.entries(ADVERSARIAL)) {
      const t0 = performance.now();
      const out = redactText(`${text} ${JWT} ${PEM} ghp_abcdefghijklmnopqrstuvwxyz012345`);
      // Linear work on 256 KB takes milliseconds; the quadratic patterns took seconds (17 s for the JWT one).
      expect(performance.now() - t0, name).toBeLessThan(500);
      expect(out.endsWith(` ${REDACTED}`), name).toBe(true);
      for (const secret of [JWT, PEM, 'ghp_abcdefghij', 'PRIVATE KEY-----\nMC4']) expect(out.includes(secret), name).toBe(false);
    }
  });

  it('matches what the regular expressions matched', () => {
    expect(replaceJwts(`a ${JWT}.rest b`, 'X')).toBe('a X.rest b');
    expect(replaceJwts(`x${JWT}`, 'X')).toBe(`x${JWT}`); // not at a word boundary
    expect(replaceJwts(`-${JWT}`, 'X')).toBe('-X');
    expect(replaceJwts('eyJshort.eyJ0aWQiOiJ0ZW5fMSIs.c2lnbmF0dXJl', 'X')).toBe('eyJshort.eyJ0aWQiOiJ0ZW5fMSIs.c2lnbmF0dXJl');
    expect(replaceJwts(`eyJaaaaaaaaaaa.${JWT}`, 'X')).toBe('X.c2lnbmF0dXJlLWJ5dGVzLWhlcmU');
    expect(replacePrivateKeys(`a ${PEM} b ${PEM} c`, 'X')).toBe('a X b X c');
    expect(replacePrivateKeys('-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----', 'X')).toBe('-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----');
    expect(replacePrivateKeys('-----BEGIN PRIVATE KEY-----\nnever closed', 'X')).toBe('-----BEGIN PRIVATE KEY-----\nnever closed');
  });

  it('agrees with the backtracking patterns they replace, on any short text', () => {
    const OLD_JWT = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
    const OLD_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
    const piece = fc.constantFrom('eyJ', 'abcd', 'AB', '-', '_', '.', ' ', 'x', '9', '-----BEGIN ', '-----END ', 'PRIVATE KEY', 'RSA ', '-----', '\n');
    const text = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
    fc.assert(
      fc.property(text, (t) => {
        expect(replaceJwts(t, 'X')).toBe(t.replace(OLD_JWT, 'X'));
        expect(replacePrivateKeys(t, 'X')).toBe(t.replace(OLD_PEM, 'X'));
      }),
      { numRuns: 3000 },
    );
  });
});
