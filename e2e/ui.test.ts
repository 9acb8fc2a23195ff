// The UI in a real (headless) Chromium against `wrangler dev`: sign in, pick a sample runbook, start
// a run from the generated form, watch it live, approve the waiting step, see it succeed.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ROOT, apiClient, getRun, secondPersonKey } from './helpers';

const { url, adminKey } = inject('e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'bench-results');
const STEP_TIMEOUT = 20_000;

let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Uncaught exceptions in the page: any of them fails the test. */
let pageErrors: string[];
/** console.error output, reported on failure. */
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
    await byTestId('login-key-input').waitFor();
    // A signed-out visitor's first load is not an error: the session probe answers 200.
    expect(consoleErrors).toEqual([]);

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

    // Someone other than the person who started the run approves it (DESIGN §14): they sign in.
    await byTestId('sign-out-button').click();
    await page.waitForURL(/\/login/);
    await signIn(await secondPersonKey(url, adminKey));
    await page.waitForURL((u) => u.pathname === '/');
    await page.goto(`/runs/${runId}`);
    // From here on, everything must arrive over the live socket: mark the document to prove
    // that the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { __e2eMarker: string }).__e2eMarker = 'same-document'));
    await page.locator('[data-testid="live-status"]', { hasText: /^live$/ }).waitFor();
    await stepStatus('drain').and(page.locator('[data-status="awaiting_approval"]')).waitFor();
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

  it('a start whose answer was lost, sent again, is answered with the run it made: one run, not two', async () => {
    await signIn(adminKey);
    await page.waitForURL((u) => u.pathname === '/');
    await page.goto('/runbooks/node-not-ready');
    await byTestId('run-input-node').fill('node-ui-lost-answer');

    // The first POST reaches the server and starts the run, but its answer never gets back (the
    // connection drops on the way): the browser sees a network error. Later POSTs go through.
    const posts: { key: string | null; status: number; id?: string }[] = [];
    await page.route('**/api/v1/runs', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const res = await route.fetch();
      const body = (await res.json()) as { id?: string };
      posts.push({ key: route.request().headers()['idempotency-key'] ?? null, status: res.status(), id: body.id });
      if (posts.length === 1) return route.abort('connectionreset');
      return route.fulfill({ response: res });
    });

    await byTestId('start-run-button').click();
    const error = byTestId('run-form-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.innerText()).toMatch(/could not reach the server/i);
    expect(new URL(page.url()).pathname).toBe('/runbooks/node-not-ready');

    // The operator presses Start again: the same request, the same key, the run the first one made.
    await byTestId('start-run-button').click();
    await page.waitForURL(/\/runs\/run_[^/]+$/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(posts).toHaveLength(2);
    expect(posts[0]).toMatchObject({ status: 201, id: runId });
    expect(posts[1]).toMatchObject({ status: 200, id: runId, key: posts[0]!.key });
    expect(posts[0]!.key).toMatch(/^ui-[0-9a-f]{32}$/);

    const api = apiClient(url, adminKey);
    const listed = await api('GET', '/runs?runbook=node-not-ready&limit=200');
    expect(listed.status).toBe(200);
    const mine: string[] = [];
    for (const r of listed.body.items as { id: string }[]) {
      const run = await api('GET', `/runs/${r.id}`);
      if (run.body.inputs?.node === 'node-ui-lost-answer') mine.push(r.id);
    }
    expect(mine).toEqual([runId]);
    // Leave nothing waiting for an approval behind.
    expect((await api('POST', `/runs/${runId}/cancel`, { json: {} })).status).toBe(200);
    expect(pageErrors).toEqual([]);
  });
});
