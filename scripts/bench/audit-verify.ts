// The offline audit verifier's throughput: builds an export of `n` entries exactly as the audit log
// writes them (HMAC chain, a signed checkpoint every 1000 entries, manifest), writes it to a
// temporary file and times `verifyExportFile` on it with every check on (HMAC keys, pinned key),
// the path `npm run audit:verify` takes. Bundled and run by scripts/bench.mjs like decide.ts.
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportLines, newSigner } from '../../worker/audit/test-helpers';
import { verifyExportFile } from '../../worker/audit/verify-file';

export interface AuditVerifyBench {
  entries: number;
  checkpoints: number;
  file_bytes: number;
  verify_ms: number;
  entries_per_s: number;
  ok: boolean;
}

export function benchAuditVerify(n = 200_000, runs = 3): AuditVerifyBench {
  const hmacKeys = { k1: 'bench-audit-hmac-key-0123456789abcdef' };
  const built = { notes: [] as string[], vkeys: [] as string[], entries: [] };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentrunbook-audit-bench-'));
  const file = path.join(dir, 'export.jsonl');
  try {
    // Written as it is generated, so the export never sits in memory while it is verified.
    const fd = openSync(file, 'w');
    let pending: string[] = [];
    for (const line of exportLines({ count: n, every: 1000, signers: [newSigner()], hmac: hmacKeys }, built, false)) {
      pending.push(line);
      if (pending.length === 4096) {
        writeSync(fd, pending.join('\n') + '\n');
        pending = [];
      }
    }
    if (pending.length) writeSync(fd, pending.join('\n') + '\n');
    closeSync(fd);
    const options = { hmacKeys, publicKeys: built.vkeys };
    verifyExportFile(file, options); // warm-up: JIT and page cache
    let best = Infinity;
    let ok = true;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const report = verifyExportFile(file, options);
      best = Math.min(best, performance.now() - t0);
      ok &&= report.ok && report.entries === n;
    }
    return {
      entries: n,
      checkpoints: built.notes.length,
      file_bytes: statSync(file).size,
      verify_ms: Math.round(best),
      entries_per_s: Math.round(n / (best / 1000)),
      ok,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
