// Hand-written scanners for the two credential shapes whose regular expressions backtrack: a JWT
// (three runs of one alphabet joined by dots, each of which can start another candidate) and a
// PEM private key (a lazy search for its END line from every BEGIN). Each scanner moves forward
// only, so its work is linear in the text: a failed candidate is skipped whole, and every
// character is looked at a bounded number of times.

/** Counts characters examined, for tests that prove the scanners linear. */
export interface ScanStats {
  visited: number;
}

const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** base64url: the alphabet of a JWT's three parts. */
const isSegmentCode = (c: number) => isWordCode(c) || c === 45;

/** The end (exclusive) of the run of base64url characters starting at `from`. */
function runEnd(text: string, from: number, stats?: ScanStats): number {
  let i = from;
  while (i < text.length && isSegmentCode(text.charCodeAt(i))) i += 1;
  if (stats) stats.visited += i - from + 1;
  return i;
}

/** Where the JWT starting at `start` ends, or where the run that failed ends (negated, minus one). */
function matchJwt(text: string, start: number, stats?: ScanStats): { end: number } | { skipTo: number } {
  // `eyJ` + ≥ 8, a dot, `eyJ` + ≥ 8, a dot, ≥ 8: header and payload are base64url JSON objects.
  const first = runEnd(text, start, stats);
  if (first - start < 11 || text[first] !== '.') return { skipTo: first };
  const second = runEnd(text, first + 1, stats);
  if (!text.startsWith('eyJ', first + 1) || second - first - 1 < 11 || text[second] !== '.') return { skipTo: first };
  const third = runEnd(text, second + 1, stats);
  if (third - second - 1 < 8) return { skipTo: first };
  return { end: third };
}

/** Replaces every JWT-shaped token (session cookies, ID tokens) with `replacement`. */
export function replaceJwts(text: string, replacement: string, stats?: ScanStats): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const at = text.indexOf('eyJ', from);
    if (at < 0) break;
    if (stats) stats.visited += at - from + 1;
    if (at > 0 && isWordCode(text.charCodeAt(at - 1))) {
      from = at + 1; // not at a word boundary
      continue;
    }
    const m = matchJwt(text, at, stats);
    if ('skipTo' in m) {
      // Every later start inside this run has the same run end and fewer characters: it fails too.
      from = Math.max(m.skipTo, at + 1);
      continue;
    }
    out += text.slice(copied, at) + replacement;
    copied = from = m.end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const isUpperOrSpace = (c: number) => (c >= 65 && c <= 90) || c === 32;

/** `-----BEGIN <label>-----` at `at`, label `[A-Z ]*PRIVATE KEY`: the index after it, or -1. */
function pemLine(text: string, at: number, word: 'BEGIN' | 'END', stats?: ScanStats): number {
  const labelStart = at + 6 + word.length; // '-----' + word + ' '
  let i = labelStart;
  while (i < text.length && isUpperOrSpace(text.charCodeAt(i))) i += 1;
  if (stats) stats.visited += i - labelStart + 1;
  return text.endsWith('PRIVATE KEY', i) && text.startsWith('-----', i) ? i + 5 : -1;
}

/** Replaces every PEM private key block, BEGIN line to END line, with `replacement`. */
export function replacePrivateKeys(text: string, replacement: string, stats?: ScanStats): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', from);
    if (begin < 0) break;
    const body = pemLine(text, begin, 'BEGIN', stats);
    if (body < 0) {
      from = begin + 1;
      continue;
    }
    // The first END line after it closes the block. With none, no later BEGIN has one either.
    let end = -1;
    for (let search = body; end < 0; ) {
      const at = text.indexOf('-----END ', search);
      if (at < 0) break;
      if (stats) stats.visited += at - search + 1;
      end = pemLine(text, at, 'END', stats);
      search = at + 1;
    }
    if (end < 0) break;
    out += text.slice(copied, begin) + replacement;
    copied = from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
