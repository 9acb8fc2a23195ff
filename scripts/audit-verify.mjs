#!/usr/bin/env node
// `npm run audit:verify -- <export.jsonl> [options]`: checks an audit export (GET /api/v1/audit/export)
// without the database — the HMAC chain, the RFC 6962 tree, every checkpoint's signature, the
// signed manifest, and consistency with checkpoints kept elsewhere. Exit status: 0 verified,
// 1 a problem was found (the first is named), 2 usage error.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib.mjs';

const USAGE = `usage: npm run audit:verify -- <export.jsonl> [options]

  --public-key <vkey>        trust this signing key (repeatable): <origin>+<key id>+<base64>, from
                             GET /api/v1/audit/checkpoints ("keys"). Without it the keys written in
                             the export are used, which does not detect a forged, re-signed export.
  --public-keys <file>       keys from a file: one vkey per line, or the JSON of GET /audit/checkpoints
  --hmac-keys <json>         the audit HMAC keys, as AUDIT_HMAC_KEYS ({"k1":"…"}); default: the
                             AUDIT_HMAC_KEYS environment variable. Without them HMACs are not checked.
  --hmac-keys-file <file>    the same, from a file
  --checkpoint <file>        a signed checkpoint of this log kept from before (repeatable): a note, or
                             the JSON of GET /audit/checkpoints; proves the export was not rewritten
                             or cut back to before it
  --allow-unsigned-tail      accept entries after the last checkpoint and no signed manifest, as in
                             an export made while checkpoint signing was off
  --json                     print the report as JSON`;

function fail(message) {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      'public-key': { type: 'string', multiple: true },
      'public-keys': { type: 'string' },
      'hmac-keys': { type: 'string' },
      'hmac-keys-file': { type: 'string' },
      checkpoint: { type: 'string', multiple: true },
      'allow-unsigned-tail': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail(err.message);
}
const { values: opts, positionals } = args;
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 1) fail('give exactly one export file');
const file = positionals[0];
if (!existsSync(file)) fail(`no such file: ${file}`);

const read = (f) => {
  if (!existsSync(f)) fail(`no such file: ${f}`);
  return readFileSync(f, 'utf8');
};
const tryJson = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const publicKeys = [...(opts['public-key'] ?? [])];
if (opts['public-keys']) {
  const text = read(opts['public-keys']);
  const doc = tryJson(text);
  if (doc?.keys) publicKeys.push(...doc.keys.map((k) => k.vkey));
  else publicKeys.push(...text.split('\n').map((l) => l.trim()).filter(Boolean));
}

let hmacText = opts['hmac-keys'] ?? (opts['hmac-keys-file'] ? read(opts['hmac-keys-file']) : process.env.AUDIT_HMAC_KEYS);
let hmacKeys;
if (hmacText) {
  hmacKeys = tryJson(hmacText);
  if (!hmacKeys || typeof hmacKeys !== 'object' || Object.values(hmacKeys).some((v) => typeof v !== 'string')) fail('the HMAC keys must be a JSON object of key id → secret');
}

const checkpoints = [];
for (const f of opts.checkpoint ?? []) {
  const text = read(f);
  const doc = tryJson(text);
  if (doc?.items) checkpoints.push(...doc.items.map((c) => c.note));
  else if (doc?.note) checkpoints.push(doc.note);
  else checkpoints.push(text);
}

// The verifier is TypeScript shared with the Worker; bundle it for Node (as the bench does).
const { build } = await import('esbuild');
const out = path.join(ROOT, 'node_modules', '.cache', 'agentrunbook-audit-verify', 'verify.mjs');
await build({ entryPoints: [path.join(ROOT, 'worker', 'audit', 'verify-file.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
const { verifyExportFile } = await import(out);

let report;
const t0 = performance.now();
try {
  report = verifyExportFile(file, { hmacKeys, publicKeys, checkpoints, allowUnsignedTail: opts['allow-unsigned-tail'] });
} catch (err) {
  fail(`cannot verify: ${err.message}`);
}
const seconds = (performance.now() - t0) / 1000;

if (opts.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const rate = report.entries && seconds > 0 ? ` (${Math.round(report.entries / seconds).toLocaleString('en')} entries/s)` : '';
  console.log(`audit export ${file}`);
  if (report.tenant) console.log(`  log          ${report.origin} (tenant ${report.tenant})`);
  console.log(`  entries      ${report.entries}${report.root_hash ? `, tree root ${report.root_hash}` : ''}${rate}`);
  console.log(`  chain        ${report.hmac_checked ? 'links and HMACs checked' : 'links checked; HMACs NOT checked (no HMAC key given)'}`);
  console.log(`  checkpoints  ${report.checkpoints_verified} signed and consistent, covering ${report.signed_tree_size} entries; keys ${report.keys === 'pinned' ? 'pinned (--public-key)' : 'taken from the export'}`);
  for (const k of report.signed_by) console.log(`               signed by ${k}`);
  if (report.exported_at) console.log(`  manifest     signed; exported ${report.exported_at}`);
  if (checkpoints.length) console.log(`  outside      ${report.external_checkpoints} of ${checkpoints.length} checkpoint(s) you supplied matched`);
  for (const w of report.warnings) console.log(`  note: ${w}`);
  if (report.ok) console.log('VERIFIED');
  else {
    const where = [report.problem.line ? `line ${report.problem.line}` : '', report.problem.seq ? `entry ${report.problem.seq}` : ''].filter(Boolean).join(', ');
    console.log(`FAILED [${report.problem.kind}]${where ? ` at ${where}` : ''}: ${report.problem.message}`);
  }
}
process.exit(report.ok ? 0 : 1);
