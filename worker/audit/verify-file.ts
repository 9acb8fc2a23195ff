/**
 * Reads an export file for the verifier in fixed-size chunks (Node only: the offline verifier
 * and the benchmark use it). Lines are handed over as byte ranges of the chunk; nothing is decoded
 * that the verifier does not need, so a file of millions of entries streams at hashing speed.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { ExportVerifier, refine } from './verify-export';
import type { VerifyOptions, VerifyReport } from './verify-report';

const CHUNK = 4 << 20;

export function verifyExportFile(path: string, options: VerifyOptions = {}): VerifyReport {
  const v = new ExportVerifier(options);
  const lastByte = forEachLine(path, (buf, start, end) => {
    v.line(buf, start, end);
    return !v.failed;
  });
  const report = v.finish(lastByte === 0x0a);
  if (report.problem?.kind !== 'tree' || !report.problem.lines) return report;
  // Rare path: read the failed window again to name the altered line, if it shows.
  const [from, to] = report.problem.lines;
  const texts = new Map<number, string>();
  let n = 0;
  forEachLine(path, (buf, start, end) => {
    n++;
    if (n >= from) texts.set(n, buf.toString('utf8', start, end));
    return n < to;
  });
  return refine(report, v, (lineNo) => texts.get(lineNo) ?? '');
}

/** Calls `onLine` for each line (without its newline) until it returns false; returns the file's last byte. */
function forEachLine(path: string, onLine: (buf: Buffer, start: number, end: number) => boolean): number | undefined {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let have = 0;
    let last: number | undefined;
    for (;;) {
      if (have === buf.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const read = readSync(fd, buf, have, buf.length - have, null);
      if (read > 0) last = buf[have + read - 1];
      have += read;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0 || nl >= have) break;
        if (!onLine(buf, start, nl)) return last;
        start = nl + 1;
      }
      if (read === 0) {
        if (start < have) onLine(buf, start, have);
        return last;
      }
      buf.copy(buf, 0, start, have);
      have -= start;
    }
  } finally {
    closeSync(fd);
  }
}
