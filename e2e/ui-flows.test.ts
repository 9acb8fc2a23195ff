// The UI's main journeys in a real (headless) Chromium against `wrangler dev`: an SRE writes a
// runbook in the browser (the server's error is shown at its line, then fixed), starts a run from
// it, approves its step and watches it finish live, then verifies the audit log; and a second
// tenant, signed in, sees none of the first tenant's data anywhere in the UI.
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ROOT, apiClient, createRunbook, createTenant, getRun, launchChromium, secondPersonKey, signInUi, startRun, uniqueName, waitForRun } from './helpers';

const { url, adminKey } = inject('e2e');
const SHOTS = path.join(ROOT, 'bench-results');
const STEP_TIMEOUT = 20_000;

let browser: Browser;
const open: { context: BrowserContext; page: Page; errors: string[] }[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async (ctx) => {
  for (const { context, page } of open.splice(0)) {
    if (ctx.task.result?.state === 'fail') {
      await page.screenshot({ path: path.join(SHOTS, `e2e-ui-flows-failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 50)}.png`), fullPage: true }).catch(() => undefined);
    }
    await context.close();
  }
});

/** A fresh browser session; uncaught page errors are collected and must stay empty. */
async function newPage(): Promise<{ page: Page; errors: string[]; byTestId: (id: string) => ReturnType<Page['locator']> }> {
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  open.push({ context, page, errors });
  return { page, errors, byTestId: (id) => page.locator(`[data-testid="${id}"]`) };
}

/** A runbook with one mistake: the second step's tool is misspelled. */
function runbookYaml(name: string, tool: string): string {
  return `apiVersion: agentrunbook/v1
kind: Runbook
metadata:
  name: ${name}
  description: Written in the browser by the e2e suite.
spec:
  inputs:
    node: { type: string, required: true }
  steps:
    - id: inspect
      tool: k8s.get_node
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
    - id: cordon
      tool: ${tool}
      with: { cluster: prod-eu, node: '\${{ inputs.node }}' }
      approval: required
`;
}

describe('the UI journeys (Chromium)', () => {
  it('writes a runbook (the error shown at its line, then fixed), runs it, approves its step live, and verifies the audit log', async () => {
    const { page, errors, byTestId } = await newPage();
    await signInUi(page, adminKey);
    // Signing in lands on the dashboard.
    expect(new URL(page.url()).pathname).toBe('/');
    await byTestId('stat-active').waitFor();

    // ── Write the runbook, with a misspelled tool ──────────────────────────────────────
    await byTestId('nav-runbooks').click();
    await byTestId('new-runbook').click();
    await page.waitForURL(/\/runbooks\/new$/);
    const name = uniqueName('e2e-ui');
    const broken = runbookYaml(name, 'k8s.cordon_nod');
    const badLine = broken.split('\n').findIndex((l) => l.includes('k8s.cordon_nod')) + 1;
    await byTestId('yaml-editor-input').fill(broken);
    await byTestId('editor-save').click();

    // The server's problem is listed with its line and message, and the line is marked.
    const problem = byTestId('editor-problem').first();
    await problem.waitFor();
    expect(await problem.getAttribute('data-line')).toBe(String(badLine));
    const text = await problem.innerText();
    expect(text).toContain(`Line ${badLine}`);
    expect(text).toContain('spec.steps[1].tool');
    expect(text).toMatch(/unknown tool "k8s\.cordon_nod"; did you mean "k8s\.cordon_node"\?/);
    expect(await byTestId('editor-error-line').getAttribute('data-line')).toBe(String(badLine));
    expect(new URL(page.url()).pathname).toBe('/runbooks/new');
    // The problem's line button puts the caret on that line.
    await problem.getByRole('button', { name: `Line ${badLine}` }).click();
    const caretLine = await byTestId('yaml-editor-input').evaluate((el: HTMLTextAreaElement) => el.value.slice(0, el.selectionStart).split('\n').length);
    expect(caretLine).toBe(badLine);

    // ── Fix it and save ────────────────────────────────────────────────────────────────
    await byTestId('yaml-editor-input').fill(runbookYaml(name, 'k8s.cordon_node'));
    await byTestId('editor-save').click();
    await page.waitForURL(new RegExp(`/runbooks/${name}\\?saved=v1$`));
    await byTestId('runbook-saved').waitFor();
    expect(await byTestId('editor-problem').count()).toBe(0);

    // ── Start a run from the generated form ───────────────────────────────────────────
    await byTestId('run-input-node').fill('node-e2e-ui');
    await byTestId('start-run-button').click();
    await page.waitForURL(/\/runs\/run_[^/]+$/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    // Everything from here arrives over the live socket: the document is never reloaded.
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same-document'));

    const stepStatus = (step: string) => page.locator(`[data-testid="step-card"][data-step-id="${step}"] [data-testid="step-status"]`);
    await page.locator('[data-testid="live-status"]', { hasText: /^live$/ }).waitFor();
    await stepStatus('cordon').and(page.locator('[data-status="awaiting_approval"]')).waitFor();
    expect(await stepStatus('inspect').getAttribute('data-status')).toBe('succeeded');

    // ── Someone else approves the step inline and watches the run finish ──────────────
    // (approval needs a person other than the one who started the run: DESIGN §14)
    await byTestId('sign-out-button').click();
    await page.waitForURL(/\/login/);
    await signInUi(page, await secondPersonKey(url, adminKey));
    await page.goto(`/runs/${runId}`);
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same-document'));
    await page.locator('[data-testid="live-status"]', { hasText: /^live$/ }).waitFor();
    await stepStatus('cordon').and(page.locator('[data-status="awaiting_approval"]')).waitFor();
    const card = page.locator('[data-testid="step-card"][data-step-id="cordon"]');
    await card.locator('[data-testid="approval-comment"]').fill('Checked the node — e2e');
    await card.locator('[data-testid="approve-step"]').click();
    await byTestId('run-status').and(page.locator('[data-status="succeeded"]')).waitFor({ timeout: 30_000 });
    await stepStatus('cordon').and(page.locator('[data-status="succeeded"]')).waitFor();
    expect(await card.locator('[data-testid="step-reviews"]').innerText()).toMatch(/Approved by .*Checked the node — e2e/);
    expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('same-document');
    expect(await byTestId('live-status').innerText()).toBe('ended');
    expect((await getRun(apiClient(url, adminKey), runId)).status).toBe('succeeded');

    // ── The audit log has the run's story, and its chain verifies ─────────────────────
    await byTestId('nav-audit').click();
    await page.waitForURL(/\/audit$/);
    await byTestId('audit-filter-resource').fill(runId);
    await byTestId('audit-filter-resource').press('Enter');
    await page.waitForURL(new RegExp(`resource_id=${runId}`));
    await page.locator('[data-testid="audit-row"][data-action="run.succeeded"]').waitFor();
    const actions = await byTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(actions).toEqual(expect.arrayContaining(['run.created', 'run.step.awaiting_approval', 'run.step.approved', 'run.step.succeeded', 'run.succeeded']));
    await byTestId('audit-verify').click();
    const verdict = byTestId('audit-verify-result');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-ok')).toBe('true');
    expect(await verdict.innerText()).toMatch(/Chain intact\. All \d+ entries verified/);

    expect(errors).toEqual([]);
  });

  it('shows a second tenant none of the first tenant\'s runbooks, runs, approvals, audit entries or numbers', async () => {
    // The first (shared) tenant has a runbook of its own and a run waiting for approval.
    const first = apiClient(url, adminKey);
    const secret = uniqueName('e2e-first-only');
    await createRunbook(first, runbookYaml(secret, 'k8s.cordon_node'));
    const runId = await startRun(first, secret, { node: 'node-tenancy' });
    await waitForRun(first, runId, ['awaiting_approval']);

    const second = await createTenant(url, adminKey, 'e2e-ui-second');
    onTestFinished(async () => void (await first('POST', `/runs/${runId}/cancel`, { json: {} })));
    const { page, errors, byTestId } = await newPage();
    await signInUi(page, second.adminKey);
    expect(await byTestId('header-tenant').innerText()).toBe(second.name);

    // Dashboard: nothing in flight, nothing waiting, no failures, no runs in the chart.
    await byTestId('stat-active').waitFor();
    for (const id of ['stat-active', 'stat-awaiting', 'stat-failed']) expect(await byTestId(id).locator('.value').innerText()).toBe('0');
    await byTestId('dashboard-chart-empty').waitFor();
    await byTestId('dashboard-approvals-empty').waitFor();

    // Runbooks, runs, approvals: empty, or at least without anything of the first tenant's.
    await page.goto('/runbooks');
    await page.locator('h1', { hasText: 'Runbooks' }).waitFor();
    const names = await byTestId('runbook-link').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    expect(names).not.toContain(secret);
    await page.goto('/runs');
    await byTestId('runs-empty').waitFor();
    await page.goto('/approvals');
    await byTestId('approvals-empty').waitFor();

    // Audit: only this tenant's own entries.
    await page.goto('/audit');
    await page.locator('h1', { hasText: 'Audit log' }).waitFor();
    const auditText = await page.locator('main').innerText();
    expect(auditText).not.toContain(runId);
    expect(auditText).not.toContain(secret);
    await page.goto(`/audit?resource_id=${runId}`);
    await byTestId('audit-empty').waitFor();

    // Analytics count nothing of the first tenant's.
    await page.goto('/analytics?range=24h');
    expect(await byTestId('kpi-runs').innerText()).toBe('0');

    // The first tenant's run and runbook, addressed directly, do not exist here.
    await page.goto(`/runs/${runId}`);
    expect(await byTestId('error-message').innerText()).toMatch(/not found/i);
    await page.goto(`/runbooks/${secret}`);
    expect(await byTestId('error-message').innerText()).toMatch(/not found/i);

    expect(errors).toEqual([]);
  });
});
