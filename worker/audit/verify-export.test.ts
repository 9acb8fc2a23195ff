import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../lib/crypto';
import { GENESIS_HASH, entryLeafHash, sealEntry } from './chain';
import { hashLeaf, toHexHash } from './merkle';
import { buildExport, newSigner, sampleInput, sealSync, type BuiltExport } from './test-helpers';
import { verifyExportText } from './verify-export';
import type { VerifyOptions } from './verify-report';

const signerA = newSigner();
const signerB = newSigner();

function lines(text: string): string[] {
  return text.slice(0, -1).split('\n');
}

function join(ls: string[]): string {
  return ls.join('\n') + '\n';
}

/** Full verification: HMAC keys and pinned public keys. */
const strict = (x: BuiltExport): VerifyOptions => ({ hmacKeys: x.hmacKeys, publicKeys: x.vkeys });

describe('the export builder mirrors the audit object', () => {
  it('seals entries exactly as sealEntry does (same bytes, same HMAC, same leaf)', async () => {
    for (const i of [1, 11, 14]) {
      const input = sampleInput(i);
      const a = await sealEntry({ id: 'k1', secret: 's3cr3t' }, 'ten_1', i, GENESIS_HASH, input);
      const b = sealSync({ id: 'k1', secret: 's3cr3t' }, 'ten_1', i, GENESIS_HASH, input);
      expect(canonicalJson(b)).toBe(canonicalJson(a));
      expect(toHexHash(entryLeafHash(a))).toBe(toHexHash(hashLeaf(canonicalJson(b))));
    }
  });
});

describe('verifying an intact export', () => {
  const x = buildExport({ count: 57, every: 10, signers: [signerA] });

  it('passes with the HMAC key and the pinned public key', () => {
    const r = verifyExportText(x.text, strict(x));
    expect(r).toMatchObject({ ok: true, entries: 57, hmac_checked: true, keys: 'pinned', checkpoints_verified: 6, signed_tree_size: 57, signed_by: [x.vkeys[0]!.split('+').slice(0, 2).join('+')] });
    expect(r.warnings).toEqual([]);
  });

  it('passes on the keys inside the export, saying what that does not prove', () => {
    const r = verifyExportText(x.text, {});
    expect(r).toMatchObject({ ok: true, hmac_checked: false, keys: 'embedded' });
    expect(r.warnings.join('\n')).toMatch(/HMACs not checked/);
    expect(r.warnings.join('\n')).toMatch(/--public-key/);
  });

  it('passes across a rotation of both the HMAC key and the signing key', () => {
    const r2 = buildExport({ count: 40, every: 7, signers: [signerA, signerB], hmac: { k1: 'old-key-000000', k2: 'new-key-111111' } });
    expect(r2.vkeys).toHaveLength(2);
    expect(verifyExportText(r2.text, strict(r2))).toMatchObject({ ok: true, checkpoints_verified: 6 });
    // Pinning only the new key: the old checkpoints are not trusted.
    expect(verifyExportText(r2.text, { hmacKeys: r2.hmacKeys, publicKeys: [r2.vkeys[1]!] }).problem).toMatchObject({ kind: 'key' });
    // Missing the old HMAC key: the first entry names it.
    expect(verifyExportText(r2.text, { hmacKeys: { k2: 'new-key-111111' } }).problem).toMatchObject({ kind: 'hmac', seq: 1 });
  });

  it('takes unusual entries (quotes, escapes, a nested "hash" key) through the careful path', () => {
    const odd = buildExport({
      count: 5,
      every: 2,
      signers: [signerA],
      tenant: 'ten_"odd"\\',
      input: (i) => ({ ...sampleInput(i), data: { hash: 'f'.repeat(64), nested: { hash: 'x' }, text: `"quoted" \\ ,"hash":"${'0'.repeat(64)}",` } }),
    });
    expect(verifyExportText(odd.text, strict(odd))).toMatchObject({ ok: true, entries: 5 });
  });

  it('refuses an export with nothing it can check', () => {
    const bare = buildExport({ count: 3 });
    expect(verifyExportText(bare.text, {}).problem).toMatchObject({ kind: 'unverifiable' });
    expect(verifyExportText(bare.text, { hmacKeys: bare.hmacKeys })).toMatchObject({ ok: true, checkpoints_verified: 0 });
  });
});

describe('reporting the first problem precisely', () => {
  const x = buildExport({ count: 30, every: 10, signers: [signerA] });
  const base = lines(x.text);
  // line 1 header, line 2 key, then entries and checkpoints: entry n is at index of its canonical line.
  const lineOf = (seq: number) => base.indexOf(canonicalJson(x.entries[seq - 1])) + 1;

  it('names the altered entry by its HMAC', () => {
    const ls = [...base];
    ls[lineOf(17) - 1] = ls[lineOf(17) - 1]!.replace('succeeded', 'failed');
    expect(verifyExportText(join(ls), strict(x)).problem).toMatchObject({ kind: 'hmac', seq: 17, line: lineOf(17) });
  });

  it('without the HMAC key, names the checkpoint window, and the line when it is malformed', () => {
    const ls = [...base];
    ls[lineOf(17) - 1] = ls[lineOf(17) - 1]!.replace('"attempts":', '"attempts" :');
    const r = verifyExportText(join(ls), {});
    expect(r.problem).toMatchObject({ kind: 'format', line: lineOf(17) });
    expect(r.problem!.message).toMatch(/checkpoint for tree size 20/);
    const ls2 = [...base];
    ls2[lineOf(17) - 1] = ls2[lineOf(17) - 1]!.replace('succeeded', 'failed');
    expect(verifyExportText(join(ls2), {}).problem).toMatchObject({ kind: 'tree', seq: 11, lines: [lineOf(11), lineOf(20)] });
  });

  it('names a missing entry, a repeated one and a broken link', () => {
    expect(verifyExportText(join(base.filter((_, i) => i !== lineOf(5) - 1)), strict(x)).problem).toMatchObject({ kind: 'sequence', seq: 5 });
    const dup = [...base];
    dup.splice(lineOf(6) - 1, 0, base[lineOf(5) - 1]!);
    expect(verifyExportText(join(dup), strict(x)).problem).toMatchObject({ kind: 'sequence', seq: 5 });
  });

  it('names a truncation against the header, a checkpoint, the manifest or a removed final checkpoint', () => {
    expect(verifyExportText(join(base.slice(0, lineOf(25))), strict(x)).problem).toMatchObject({ kind: 'truncated', seq: 26 });
    expect(verifyExportText(join(base.slice(0, -1)), strict(x)).problem).toMatchObject({ kind: 'truncated', message: expect.stringMatching(/manifest/) });
    expect(verifyExportText(join([...base.slice(0, -2), base.at(-1)!]), strict(x)).problem).toMatchObject({ kind: 'manifest', message: expect.stringMatching(/signs 3 checkpoints, the export holds 2/) });
    expect(verifyExportText(x.text.slice(0, -1), strict(x)).problem).toMatchObject({ kind: 'truncated' });
    const cut = [...base.slice(0, lineOf(24)), ...base.slice(-2)];
    expect(verifyExportText(join(cut), strict(x)).problem).toMatchObject({ kind: 'truncated', seq: 25 });
    // Cut back to the checkpoint of 20 with the header edited to match: the manifest is missing.
    const back = [base[0]!.replace('"tree_size":30', '"tree_size":20'), ...base.slice(1, lineOf(20) + 1)];
    expect(verifyExportText(join(back), strict(x)).problem).toMatchObject({ kind: 'truncated', message: expect.stringMatching(/manifest/) });
  });

  it('cannot tell an older genuine export from a newer one, until it is shown a later checkpoint', () => {
    const older = buildExport({ count: 20, every: 10, signers: [signerA] });
    expect(verifyExportText(older.text, strict(older))).toMatchObject({ ok: true, entries: 20 });
    expect(verifyExportText(older.text, { ...strict(older), checkpoints: [x.notes.at(-1)!] }).problem).toMatchObject({ kind: 'truncated', seq: 21 });
    // An earlier checkpoint kept elsewhere is consistent with it.
    expect(verifyExportText(older.text, { ...strict(older), checkpoints: [x.notes[0]!] })).toMatchObject({ ok: true, external_checkpoints: 1 });
  });

  it('detects a rewritten history against a checkpoint kept from before (a fork)', () => {
    const rewritten = buildExport({ count: 30, every: 10, signers: [signerA], input: (i) => (i === 3 ? { ...sampleInput(i), action: 'run.cancelled' } : sampleInput(i)) });
    const r = verifyExportText(rewritten.text, { ...strict(rewritten), checkpoints: [x.notes[1]!] });
    expect(r.problem).toMatchObject({ kind: 'fork', seq: 20 });
  });

  it('refuses a re-signed export when the real key is pinned', () => {
    const forged = buildExport({ count: 30, every: 10, signers: [signerB], input: (i) => ({ ...sampleInput(i), action: 'forged' }) });
    expect(verifyExportText(forged.text, { publicKeys: x.vkeys }).problem).toMatchObject({ kind: 'key' });
  });
});

/** Mutations an attacker (or an accident) could apply to an export file. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('modify' as const), line: fc.nat(), at: fc.nat(), byte: fc.integer({ min: 0x20, max: 0x7e }) }),
  fc.record({ kind: fc.constant('modify' as const), line: fc.nat(), at: fc.nat(), byte: fc.constantFrom(0x0a, 0xc3, 0xff) }),
  fc.record({ kind: fc.constant('delete' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('foreign' as const), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

/** Applies a mutation; undefined when it would leave the file unchanged (e.g. swapping equal lines). */
function mutate(x: BuiltExport, m: Mutation, foreign: string[]): string | undefined {
  const ls = lines(x.text);
  const pick = (n: number) => n % ls.length;
  switch (m.kind) {
    case 'modify': {
      const i = pick(m.line);
      const bytes = Buffer.from(ls[i]!, 'utf8');
      const at = m.at % bytes.length;
      if (bytes[at] === m.byte) return undefined;
      bytes[at] = m.byte;
      ls[i] = bytes.toString('latin1');
      return Buffer.concat(ls.map((l, j) => Buffer.from(l + '\n', j === i ? 'latin1' : 'utf8'))).toString('latin1');
    }
    case 'delete':
      ls.splice(pick(m.line), 1);
      return join(ls);
    case 'swap': {
      const [i, j] = [pick(m.line), pick(m.other)];
      if (ls[i] === ls[j]) return undefined;
      [ls[i], ls[j]] = [ls[j]!, ls[i]!];
      return join(ls);
    }
    case 'duplicate':
      ls.splice(m.to % (ls.length + 1), 0, ls[pick(m.line)]!);
      return join(ls);
    case 'foreign':
      // A line from another export of another log (its own valid entry, checkpoint or key).
      ls.splice(m.to % (ls.length + 1), 0, foreign[m.line % foreign.length]!);
      return join(ls);
    case 'truncate':
      return x.text.slice(0, m.at % x.text.length);
  }
}

describe('every modification, deletion, reordering, insertion and truncation is detected (property)', () => {
  const exports = fc.record({ count: fc.integer({ min: 1, max: 24 }), every: fc.integer({ min: 1, max: 8 }) });
  const other = lines(buildExport({ count: 12, every: 3, signers: [signerB], tenant: 'ten_other' }).text);

  const run = (opts: (x: BuiltExport) => VerifyOptions) =>
    fc.assert(
      fc.property(exports, mutation, ({ count, every }, m) => {
        const x = buildExport({ count, every, signers: [signerA] });
        const changed = mutate(x, m, other);
        fc.pre(changed !== undefined && changed !== x.text);
        const report = verifyExportText(Buffer.from(changed!, m.kind === 'modify' ? 'latin1' : 'utf8'), opts(x));
        expect(report.ok, `${JSON.stringify(m)} went unnoticed`).toBe(false);
      }),
      { numRuns: 400 },
    );

  it('with the HMAC key and pinned public keys', () => run(strict), 60_000);
  it('with neither: the signed tree alone', () => run(() => ({})), 60_000);

  it('in an export without signatures, the HMAC chain catches every change to an entry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.nat(), fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (count, e, at, byte) => {
        const x = buildExport({ count });
        const ls = lines(x.text);
        const i = 1 + (e % count); // entry lines follow the header
        const bytes = Buffer.from(ls[i]!, 'utf8');
        fc.pre(bytes[at % bytes.length] !== byte);
        bytes[at % bytes.length] = byte;
        ls[i] = bytes.toString('latin1');
        expect(verifyExportText(Buffer.from(join(ls), 'latin1'), { hmacKeys: x.hmacKeys }).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
