// Every page of the UI against a tenant with real runs: each renders without an uncaught error, the
// theme toggle switches to dark and stays there, the navigation folds into a menu on a phone, the
// skip link works from the keyboard, and the policy editor checks the YAML against the API as it is
// typed. Takes the README's screenshots on the way (docs/screenshots/ with
// AGENTRUNBOOK_SCREENSHOTS=1; otherwise bench-results/, so a test run never changes tracked files).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT, apiClient, launchChromium, secondPersonKey, signInUi, startRun, waitForRun } from './helpers';

const { url, adminKey } = inject('e2e');
const api = apiClient(url, adminKey);
const README_SHOTS = process.env.AGENTRUNBOOK_SCREENSHOTS === '1';
const SHOTS = README_SHOTS ? path.join(ROOT, 'docs', 'screenshots') : path.join(ROOT, 'bench-results');
const shot = (name: string) => path.join(SHOTS, README_SHOTS ? `${name}.png` : `e2e-ui-${name}.png`);
const SETTLED = ['awaiting_approval', 'succeeded', 'failed', 'denied', 'cancelled'];
const HEALTH = 'https://status.example.com/healthz';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
/** The run left waiting for an approval: the "live run" of the screenshots. */
let waitingRun: string;
/** The run the change freeze stopped, and how it ended. */
let frozen: { id: string; status: string; reason: string | null };

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Real runs of the sample runbooks, so that the dashboard, the lists and the charts have data.
  const started = await Promise.all([
    startRun(api, 'pagerduty-incident-triage', { incident_id: 'PINC123', namespace: 'shop', pod: 'checkout-7d9f' }),
    startRun(api, 'scale-up-under-load', { namespace: 'shop', deployment: 'checkout', health_url: HEALTH }, { mode: 'dry_run' }),
    startRun(api, 'revert-bad-pr', { repo: 'acme/shop', pr: 42, jira_key: 'OPS-7', health_url: HEALTH }, { mode: 'dry_run' }),
    // A change freeze denies the high-risk rollback: a failure for the dashboard.
    startRun(api, 'rollback-bad-deploy', { repo: 'acme/shop', namespace: 'shop', deployment: 'checkout', health_url: HEALTH }, { context: { change_freeze: true } }),
  ]);
  // Started by another person: the admin who looks at the dashboard may approve it (nobody
  // approves their own run's steps).
  waitingRun = await startRun(apiClient(url, await secondPersonKey(url, adminKey)), 'node-not-ready', { node: 'node-17', incident_id: 'PINC123' });
  const settled = await Promise.all([...started, waitingRun].map((id) => waitForRun(api, id, SETTLED)));
  frozen = { id: started[3]!, status: settled[3]!.status, reason: (settled[3] as { reason?: string | null }).reason ?? null };
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  // Leave the shared tenant without a run waiting on people.
  if (waitingRun) await api('POST', `/runs/${waitingRun}/cancel`, { json: {} });
});

async function openPage(viewport = { width: 1280, height: 900 }, colorScheme: 'light' | 'dark' = 'light') {
  context = await browser.newContext({ baseURL: url, viewport, colorScheme });
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
  errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await signInUi(page, adminKey);
}

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({ path: path.join(ROOT, 'bench-results', `e2e-ui-pages-failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 50)}.png`), fullPage: true }).catch(() => undefined);
  }
  await context?.close();
});

const byTestId = (id: string) => page.locator(`[data-testid="${id}"]`);

describe('every page (Chromium)', () => {
  it('renders each page with its data and no uncaught error; the dashboard and the live run are photographed', async () => {
    await openPage();
    // The dashboard counts what the seeded runs did.
    await byTestId('stat-awaiting').waitFor();
    expect(Number(await byTestId('stat-awaiting').locator('.value').innerText())).toBeGreaterThanOrEqual(1);
    expect(Number(await byTestId('stat-failed').locator('.value').innerText())).toBeGreaterThanOrEqual(1);
    await byTestId('dashboard-runs-chart').waitFor();
    await byTestId('dashboard-approvals').waitFor();
    await page.screenshot({ path: shot('dashboard'), fullPage: true });

    const pages: [string, string][] = [
      ['/runbooks', 'Runbooks'],
      ['/runbooks/node-not-ready', 'node-not-ready'],
      ['/runbooks/node-not-ready/versions', 'node-not-ready'],
      ['/runs', 'Runs'],
      ['/approvals', 'Approvals'],
      ['/policies', 'Policies'],
      ['/audit', 'Audit log'],
      ['/analytics?range=24h', 'Analytics'],
      ['/evals', 'Evaluations'],
      ['/settings/keys', 'Settings'],
      ['/settings/integrations', 'Settings'],
      ['/settings/clusters', 'Settings'],
      ['/settings/sign-in', 'Settings'],
    ];
    for (const [path_, heading] of pages) {
      await page.goto(path_);
      await page.locator('main h1', { hasText: heading }).first().waitFor();
      expect(await page.locator('[data-testid="error-message"]').count(), `${path_} shows an error page`).toBe(0);
    }
    // The frozen rollback is in the list filtered by how it ended, and the analytics count the seeded runs.
    expect(['denied', 'failed']).toContain(frozen.status);
    await page.goto(`/runs?status=${frozen.status}`);
    await page.locator(`[data-testid="run-row"][data-run-id="${frozen.id}"]`).waitFor();
    const statuses = await byTestId('run-row').evaluateAll((rows) => rows.map((r) => r.querySelector('[data-status]')?.getAttribute('data-status')));
    expect(new Set(statuses)).toEqual(new Set([frozen.status]));
    // The row says why it ended (in full on hover).
    expect(frozen.reason).toMatch(/^Step \S+ (denied|failed): /);
    const frozenReason = page.locator(`[data-testid="run-row"][data-run-id="${frozen.id}"] [data-testid="run-row-reason"]`);
    expect(await frozenReason.getAttribute('title')).toBe(frozen.reason);
    await page.goto('/analytics?range=24h');
    expect(Number(await byTestId('kpi-runs').innerText())).toBeGreaterThanOrEqual(5);
    await byTestId('chart-runs').waitFor();
    await page.screenshot({ path: shot('analytics'), fullPage: true });

    // The run waiting for approval, live.
    await page.goto(`/runs/${waitingRun}`);
    await page.locator('[data-testid="live-status"]', { hasText: /^live$/ }).waitFor();
    await page.locator('[data-testid="step-card"][data-step-id="drain"] [data-testid="approve-step"]').waitFor();
    await byTestId('run-trace').waitFor();
    // Tall enough to show the step waiting for its approval, with the form.
    await page.setViewportSize({ width: 1280, height: 1500 });
    await page.screenshot({ path: shot('run-live'), fullPage: false });

    expect(errors).toEqual([]);
  });

  it('checks policy YAML against the API while it is typed, marking the line of a problem', async () => {
    await openPage();
    await page.goto('/policies');
    await byTestId('new-policy').click();
    await page.waitForURL(/\/policies\/new\?from=/);
    const input = byTestId('yaml-editor-input');
    const yaml = await input.inputValue();
    expect(yaml).toContain('kind: Policy');
    // The loaded policy checks clean.
    await page.locator('[data-testid="editor-status"][data-state="ok"]').waitFor();

    // A misspelled effect: reported live, at its line, without saving.
    const broken = yaml.replace('effect: require_approval', 'effect: require_aproval');
    const line = broken.split('\n').findIndex((l) => l.includes('require_aproval')) + 1;
    await input.fill(broken);
    await page.locator('[data-testid="editor-status"][data-state="invalid"]').waitFor();
    const problem = byTestId('editor-problem').first();
    expect(await problem.getAttribute('data-line')).toBe(String(line));
    expect(await problem.innerText()).toMatch(/effect/);
    await page.locator(`[data-testid="editor-error-line"][data-line="${line}"]`).waitFor();
    await page.screenshot({ path: shot('policy-editor'), fullPage: true });

    // Fixed: clean again, and nothing was saved on the way.
    const before = (await api('GET', '/policies')).body.items.length;
    await input.fill(yaml);
    await page.locator('[data-testid="editor-status"][data-state="ok"]').waitFor();
    expect(await byTestId('editor-problem').count()).toBe(0);
    expect((await api('GET', '/policies')).body.items.length).toBe(before);
    expect(errors).toEqual([]);
  });

  it('switches to the dark theme and keeps it; works from the keyboard and on a phone', async () => {
    await openPage({ width: 390, height: 844 });
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    // system → light → dark
    await byTestId('theme-toggle').click();
    await byTestId('theme-toggle').click();
    expect(await byTestId('theme-toggle').getAttribute('data-theme-choice')).toBe('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const dark = await background();
    expect(dark).not.toBe(light);
    await page.reload();
    await byTestId('stat-active').waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await background()).toBe(dark);

    // On a phone the navigation is behind the menu button.
    const runsLink = byTestId('nav-runs');
    expect(await runsLink.isVisible()).toBe(false);
    await byTestId('menu-button').click();
    expect(await byTestId('menu-button').getAttribute('aria-expanded')).toBe('true');
    await runsLink.click();
    await page.waitForURL(/\/runs$/);
    expect(await runsLink.isVisible()).toBe(false);

    // The first Tab reaches the skip link, which moves focus to the page's content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className ?? '')).toContain('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('content');
    expect(errors).toEqual([]);
  });
});
