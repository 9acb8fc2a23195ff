import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { evalReportSchema, type EvalReport } from '../../worker/shadow/eval-report';
import { CaseError, loadCases } from './load-cases';
import { providerSource } from './providers';
import { blockingRegressions, buildReport, reportId, type FullReport } from './report';
import { htmlReport } from './report-html';
import { markdownReport } from './report-md';
import { runSuite } from './run-suite';
import { scorecard } from './scorecard';
import { loadThresholds } from './thresholds';

export const USAGE = `Usage: npm run eval -- [options]

Runs the evaluation cases (evals/cases/*.yaml) against the platform in this process and writes
JSON, Markdown and HTML reports. Exit code 1 when a threshold fails (or, with --fail-on-regression,
when a case or quality metric regressed against the baseline); 2 when the cases or options are invalid.

  --provider <name>      stub (default; or LLM_PROVIDER), openai, anthropic, replay
  --recordings <dir>     recorded answers to replay, or where --record writes them
                         (default evals/recordings/<provider>-<model>)
  --record               keep every model answer for later --provider replay
  -k, --k <n>            attempts per case (pass@k; default 1, or EVAL_K)
  --cases <dir>          the cases to run (default evals/cases)
  --case <name>          only this case (repeatable; a prefix works)
  --tag <tag>            only cases with this tag (repeatable)
  --out <dir>            where the reports go (default evals/reports)
  --baseline <file>      compare with this report (default evals/baselines/<provider>.json if present)
  --no-baseline          compare with nothing
  --tolerance <x>        drop in a quality metric or case score that still counts as equal (default 0)
  --fail-on-regression   regressions against the baseline fail the run (CI)
  --write-baseline       save this report as evals/baselines/<provider>.json
  --thresholds <file>    gates (default evals/thresholds.yaml)
  --upload <url>         POST the report to <url>/api/v1/evals with AGENTRUNBOOK_KEY (an admin key)
  --id <id>              the report's id (default eval_<time>_<provider>_<random>)
  --quiet                print only the scorecard
  -h, --help             this text`;

export interface CliResult {
  exitCode: number;
  report?: FullReport;
  files?: string[];
}

const rel = (root: string, p: string) => path.relative(process.cwd(), path.resolve(root, p)) || '.';

function readBaseline(file: string): EvalReport {
  const parsed = evalReportSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not an evaluation report: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function upload(url: string, report: FullReport, key: string | undefined): Promise<string> {
  if (!key) throw new Error('--upload needs AGENTRUNBOOK_KEY (an admin API key) in the environment');
  const res = await fetch(`${url.replace(/\/+$/, '')}/api/v1/evals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(report),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`upload failed: ${res.status} ${text.slice(0, 500)}`);
  return res.status === 201 ? 'uploaded' : 'already uploaded';
}

/**
 * `npm run eval`. `root` is the repository (cases, runbooks, policies); `env` the environment the
 * provider is configured from. Returns the exit code rather than exiting, so tests can call it.
 */
export async function main(argv: string[], root: string, env: Record<string, string | undefined> = process.env, out: (line: string) => void = console.log): Promise<CliResult> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        provider: { type: 'string' },
        recordings: { type: 'string' },
        record: { type: 'boolean' },
        k: { type: 'string', short: 'k' },
        cases: { type: 'string' },
        case: { type: 'string', multiple: true },
        tag: { type: 'string', multiple: true },
        out: { type: 'string' },
        baseline: { type: 'string' },
        'no-baseline': { type: 'boolean' },
        tolerance: { type: 'string' },
        'fail-on-regression': { type: 'boolean' },
        'write-baseline': { type: 'boolean' },
        thresholds: { type: 'string' },
        upload: { type: 'string' },
        quiet: { type: 'boolean' },
        id: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    out(`${(err as Error).message}\n\n${USAGE}`);
    return { exitCode: 2 };
  }
  if (args.help) {
    out(USAGE);
    return { exitCode: 0 };
  }
  const k = Number(args.k ?? env.EVAL_K ?? 1);
  const tolerance = Number(args.tolerance ?? 0);
  if (!Number.isInteger(k) || k < 1 || k > 100) {
    out(`-k must be an integer from 1 to 100, got "${args.k ?? env.EVAL_K}"`);
    return { exitCode: 2 };
  }
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 1) {
    out(`--tolerance must be a number from 0 to 1, got "${args.tolerance}"`);
    return { exitCode: 2 };
  }

  const started = Date.now();
  let cases;
  let source;
  try {
    const names = args.case ?? [];
    const tags = args.tag ?? [];
    cases = loadCases(root, args.cases && path.resolve(root, args.cases)).filter((c) => (names.length === 0 || names.some((n) => c.spec.name.startsWith(n))) && (tags.length === 0 || tags.some((t) => c.spec.tags.includes(t))));
    if (cases.length === 0) throw new Error('no case matches --case/--tag');
    source = providerSource({ provider: args.provider, env, recordings: args.recordings && path.resolve(root, args.recordings), record: args.record, recordingsRoot: path.join(root, 'evals', 'recordings') });
  } catch (err) {
    out(err instanceof CaseError ? err.message : `eval: ${(err as Error).message}`);
    return { exitCode: 2 };
  }

  if (!args.quiet) out(`Running ${cases.length} cases × k=${k} with ${source.label} (${source.model})…`);
  const outcomes = await runSuite(cases, source, {
    k,
    onCase: (o, i, n) => {
      if (!args.quiet) out(`  ${String(i + 1).padStart(2)}/${n} ${o.attempts.some((a) => a.passed) ? '✓' : '✗'} ${o.case.spec.name}`);
    },
  });
  source.finish();

  let thresholds;
  let baseline: EvalReport | undefined;
  const provider = source.label.split(':')[0]!;
  try {
    thresholds = loadThresholds(path.resolve(root, args.thresholds ?? 'evals/thresholds.yaml'), source.label);
    const baselineFile = args['no-baseline'] ? undefined : args.baseline ? path.resolve(root, args.baseline) : path.join(root, 'evals', 'baselines', `${provider}.json`);
    if (baselineFile && (args.baseline || existsSync(baselineFile))) baseline = readBaseline(baselineFile);
  } catch (err) {
    out(`eval: ${(err as Error).message}`);
    return { exitCode: 2 };
  }

  const now = new Date();
  const report = buildReport(
    outcomes,
    { id: args.id ?? reportId(now, source.label), created_at: now.toISOString(), provider: source.label, model: source.model, k, duration_ms: Date.now() - started },
    thresholds,
    baseline,
    tolerance,
  );

  const dir = path.resolve(root, args.out ?? 'evals/reports');
  mkdirSync(dir, { recursive: true });
  const files = [
    [`${report.id}.json`, `${JSON.stringify(report, null, 2)}\n`],
    [`${report.id}.md`, markdownReport(report)],
    [`${report.id}.html`, htmlReport(report)],
  ].map(([name, text]) => {
    const file = path.join(dir, name!);
    writeFileSync(file, text!);
    return file;
  });
  if (args['write-baseline']) {
    const file = path.join(root, 'evals', 'baselines', `${provider}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    // A baseline compares with nothing itself: its own comparison would only confuse the next one.
    writeFileSync(file, `${JSON.stringify({ ...report, baseline: null }, null, 2)}\n`);
    files.push(file);
  }
  out('');
  out(scorecard(report, files.map((f) => rel(root, f)), env.NO_COLOR === undefined && process.stdout.isTTY === true));

  if (args.upload) {
    try {
      out(`Report ${await upload(args.upload, report, env.AGENTRUNBOOK_KEY)} to ${args.upload}.`);
    } catch (err) {
      out(`eval: ${(err as Error).message}`);
      return { exitCode: 1, report, files };
    }
  }
  const failed = report.thresholds.failures.length > 0 || (args['fail-on-regression'] === true && blockingRegressions(report).length > 0);
  return { exitCode: failed ? 1 : 0, report, files };
}
