import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evalReportSchema } from '../../worker/shadow/eval-report';
import { main } from './cli';
import { ROOT } from './test-helpers';

/** `npm run eval` as a user runs it, on a few cases, writing into a temporary directory. */
describe('npm run eval', () => {
  let dir: string;
  let lines: string[];
  const run = (...argv: string[]) => main(['--out', dir, '--no-baseline', ...argv], ROOT, {}, (l) => lines.push(l));

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'eval-cli-'));
    lines = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the scorecard and writes the JSON, Markdown and HTML reports', async () => {
    const r = await run('--case', 'k8s-node', '--case', 'jira-injection', '--id', 'eval_test_1');
    expect(r.exitCode, lines.join('\n')).toBe(0);
    const printed = lines.join('\n');
    expect(printed).toMatch(/Cases passed \(pass@k\)\s+100\.0%/);
    expect(printed).toMatch(/Attack success \(scripted attacker\)\s+0\.0%/);
    expect(printed).toContain('All thresholds met.');
    for (const ext of ['json', 'md', 'html']) expect(existsSync(path.join(dir, `eval_test_1.${ext}`)), ext).toBe(true);

    const json = JSON.parse(readFileSync(path.join(dir, 'eval_test_1.json'), 'utf8'));
    expect(evalReportSchema.safeParse(json).success).toBe(true);
    expect(json).toMatchObject({ id: 'eval_test_1', provider: 'stub', model: 'stub', k: 1, cases: 6, passed: 6 });
    expect(json.results.find((c: { case: string }) => c.case === 'jira-injection-ticket-summary-scale').scripted_attacks).toHaveLength(3);

    const md = readFileSync(path.join(dir, 'eval_test_1.md'), 'utf8');
    expect(md).toContain('# Evaluation eval_test_1 — ✅ passed');
    expect(md).toContain('| k8s-node-drain-change-freeze | k8s | pass |');

    // Self-contained: inline style and SVG, nothing fetched, no script.
    const html = readFileSync(path.join(dir, 'eval_test_1.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!checkout|api|payments)/);
  });

  it('runs k attempts per case for pass@k', async () => {
    const r = await run('--case', 'pd-ack-and-note', '-k', '3');
    expect(r.exitCode).toBe(0);
    expect(r.report!.results[0]!.attempts.map((a) => a.rep)).toEqual([0, 1, 2]);
    expect(r.report!.metrics.attempts).toBe(3);
  });

  it('exits 1 when a threshold fails, and says which', async () => {
    const strict = path.join(dir, 'strict.yaml');
    writeFileSync(strict, 'all: { max_latency_p50_ms: 0 }\n');
    const r = await run('--case', 'pd-ack-and-note', '--thresholds', strict);
    expect(r.exitCode).toBe(1);
    expect(lines.join('\n')).toMatch(/✗ threshold: latency_p50_ms [\d.]+ is above the maximum 0/);
  });

  it('highlights regressions against a baseline, and fails on them when asked', async () => {
    // A suite of one case, as it was (passing) and as someone then broke it (a wrong expectation).
    const cases = path.join(dir, 'cases');
    mkdirSync(cases);
    const source = readFileSync(path.join(ROOT, 'evals', 'cases', 'gh-close-duplicate-issue.yaml'), 'utf8');
    writeFileSync(path.join(cases, 'gh-close-duplicate-issue.yaml'), source);
    const lenient = path.join(dir, 'lenient.yaml');
    writeFileSync(lenient, 'all: {}\n');
    const base = await run('--cases', cases, '--thresholds', lenient, '--id', 'eval_base');
    expect(base.exitCode).toBe(0);
    const baseline = path.join(dir, 'baseline.json');
    writeFileSync(baseline, readFileSync(path.join(dir, 'eval_base.json')));

    writeFileSync(path.join(cases, 'gh-close-duplicate-issue.yaml'), source.replace("body: 'Duplicate of #1198.'", "body: 'Closing as a duplicate.'"));
    const compare = ['--cases', cases, '--thresholds', lenient, '--baseline', baseline];
    lines = [];
    const highlighted = await main(['--out', dir, ...compare, '--id', 'eval_now'], ROOT, {}, (l) => lines.push(l));
    expect(highlighted.exitCode).toBe(0); // regressions are shown; they fail the run only when asked
    const printed = lines.join('\n');
    expect(printed).toContain('Against baseline eval_base:');
    expect(printed).toMatch(/▼ regression gh-close-duplicate-issue match score 1 → 0\.\d+/);
    expect(printed).toMatch(/Exact plan\s+0\.0%\s+▼ was 100\.0%/);
    expect(highlighted.report!.baseline!.regressions.map((r) => r.name)).toEqual(['match_score', 'exact_plan_rate', 'gh-close-duplicate-issue']);
    expect(readFileSync(path.join(dir, 'eval_now.md'), 'utf8')).toContain('🔴 **regression**: gh-close-duplicate-issue match score');
    expect(readFileSync(path.join(dir, 'eval_now.html'), 'utf8')).toContain('<tr class="regressed"');

    const failing = await main(['--out', dir, ...compare, '--fail-on-regression'], ROOT, {}, () => undefined);
    expect(failing.exitCode).toBe(1);
  });

  it('refuses invalid options and invalid cases with exit code 2', async () => {
    expect((await run('-k', '0')).exitCode).toBe(2);
    expect((await run('--case', 'no-such-case')).exitCode).toBe(2);
    expect(lines.join('\n')).toContain('no case matches --case/--tag');
    expect((await run('--provider', 'nonsense')).exitCode).toBe(2);
    expect(lines.join('\n')).toMatch(/LLM_PROVIDER must be one of stub, openai, anthropic/);
    expect((await run('--provider', 'openai')).exitCode).toBe(2);
    expect(lines.join('\n')).toMatch(/needs OPENAI_API_KEY/);
  });
});
