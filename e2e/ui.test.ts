// The UI in a real (headless) Chromium against `wrangler dev`: sign in, pick a sample runbook, start
// a run from the generated form, watch it live, approve the waiting step, see it succeed.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ROOT, apiClient, getRun } from './helpers';

const { url, adminKey } = inject('e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'bench-results');
const STEP_TIMEOUT = 20_000;

let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Uncaught exceptions in the page: any of them fails the test. */
let pageErrors: string[];
/** console.error output, reported on failure (a 401 before sign-in is expected here). */
let consoleErrors: string[];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
  page = await context.newPage();
  pageErrors = [];
  consoleErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page.screenshot({ path: path.join(SHOTS, `e2e-ui-failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}.png`), fullPage: true }).catch(() => undefined);
    console.log(`[e2e ui] console errors:\n${consoleErrors.join('\n')}`);
  }
  await context?.close();
});

const byTestId = (id: string) => page.locator(`[data-testid="${id}"]`);
const stepCard = (stepId: string) => page.locator(`[data-testid="step-card"][data-step-id="${stepId}"]`);
const stepStatus = (stepId: string) => stepCard(stepId).locator('[data-testid="step-status"]');

async function signIn(key: string): Promise<void> {
  await page.goto('/login');
  await byTestId('login-key-input').fill(key);
  await byTestId('login-submit').click();
}

describe('the UI (Chromium)', () => {
  it('redirects to the sign-in page without a session, and a wrong key shows an error', async () => {
    await page.goto('/runbooks');
    await page.waitForURL(/\/login/);
    expect(new URL(page.url()).searchParams.get('next')).toBe('/runbooks');

    await signIn(`ark_${'x'.repeat(40)}`);
    const error = byTestId('login-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.innerText()).toMatch(/invalid api key|invalid or revoked api key/i);
    expect(new URL(page.url()).pathname).toBe('/login');
    // The field is still there to try again, and nothing was signed in.
    expect(await byTestId('login-key-input').isVisible()).toBe(true);
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    expect(me).toBe(401);
    expect(pageErrors).toEqual([]);
  });

  it('signs in, starts a sample runbook, follows it live, approves the waiting step and sees it succeed', async () => {
    await signIn(adminKey);
    // Signing in lands on the dashboard; the runbooks are one click away.
    await page.waitForURL((u) => u.pathname === '/');
    await byTestId('nav-runbooks').click();
    await page.waitForURL(/\/runbooks$/);

    // The sample runbooks seeded by bootstrap are listed.
    await byTestId('runbook-link').first().waitFor();
    const names = await byTestId('runbook-link').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    expect(names).toEqual(expect.arrayContaining(['node-not-ready', 'rollback-bad-deploy', 'pagerduty-incident-triage', 'scale-up-under-load', 'revert-bad-pr']));
    await page.screenshot({ path: path.join(SHOTS, 'e2e-ui-runbooks.png'), fullPage: true });

    // node-not-ready: cordon, then drain with `approval: required`, then a ticket.
    await page.locator('[data-testid="runbook-link"][data-name="node-not-ready"]').click();
    await page.waitForURL(/\/runbooks\/node-not-ready$/);
    expect(await byTestId('run-input-cluster').inputValue()).toBe('prod-eu');
    await byTestId('run-input-node').fill('node-ui-1');
    await byTestId('run-mode').selectOption('execute');
    await page.screenshot({ path: path.join(SHOTS, 'e2e-ui-runbook.png'), fullPage: true });
    await byTestId('start-run-button').click();

    await page.waitForURL(/\/runs\/run_[^/]+$/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    // From here on, everything must arrive over the live socket: mark the document to prove
    // that the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { __e2eMarker: string }).__e2eMarker = 'same-document'));

    await page.locator('[data-testid="live-status"]', { hasText: /^live$/ }).waitFor();
    await stepStatus('drain').and(page.locator('[data-status="awaiting_approval"]')).waitFor();
    await byTestId('run-status').and(page.locator('[data-status="awaiting_approval"]')).waitFor();
    expect(await stepStatus('ack').getAttribute('data-status')).toBe('skipped');
    expect(await stepStatus('cordon').getAttribute('data-status')).toBe('succeeded');
    expect(await stepStatus('ticket').getAttribute('data-status')).toBe('pending');
    expect(await stepCard('drain').innerText()).toMatch(/approval/i);
    const cards = await byTestId('step-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-step-id')));
    expect(cards).toEqual(['ack', 'cordon', 'drain', 'ticket']);
    await page.screenshot({ path: path.join(SHOTS, 'e2e-ui-awaiting-approval.png'), fullPage: true });

    await stepCard('drain').locator('[data-testid="approval-comment"]').fill('Looks right — e2e');
    await stepCard('drain').locator('[data-testid="approve-step"]').click();

    // The run ends on its own; the page follows it live.
    const status = byTestId('run-status');
    await status.and(page.locator('[data-status="succeeded"]')).waitFor({ timeout: 30_000 });
    expect((await status.innerText()).trim().toLowerCase()).toBe('succeeded');
    for (const [step, want] of [['ack', 'skipped'], ['cordon', 'succeeded'], ['drain', 'succeeded'], ['ticket', 'succeeded']] as const) {
      await stepStatus(step).and(page.locator(`[data-status="${want}"]`)).waitFor();
    }
    expect(await byTestId('approve-step').count()).toBe(0);
    expect(await byTestId('cancel-run-button').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __e2eMarker?: string }).__e2eMarker)).toBe('same-document');
    // The event log got every event live, the run's end included.
    const logText = await byTestId('event-log').innerText();
    for (const type of ['run.created', 'step.awaiting approval', 'step.approved', 'run.succeeded']) expect(logText).toContain(type);
    await page.screenshot({ path: path.join(SHOTS, 'e2e-ui-run-succeeded.png'), fullPage: true });

    // The server agrees, and the approval was recorded with its comment.
    const run = await getRun(apiClient(url, adminKey), runId);
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['ack', 'skipped'],
      ['cordon', 'succeeded'],
      ['drain', 'succeeded'],
      ['ticket', 'succeeded'],
    ]);
    const drain = run.steps.find((s) => s.id === 'drain') as { approvals?: { verdict: string; comment?: string }[] };
    expect(drain.approvals).toEqual([expect.objectContaining({ verdict: 'approve', comment: 'Looks right — e2e' })]);

    // Signing out ends the session: the app sends us back to the sign-in page.
    await byTestId('sign-out-button').click();
    await page.waitForURL(/\/login/);
    await page.goto(`/runs/${runId}`);
    await page.waitForURL(/\/login\?next=/);

    expect(pageErrors).toEqual([]);
  });
});
