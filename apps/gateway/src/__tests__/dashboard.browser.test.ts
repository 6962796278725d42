/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Gateway, runTraffic, startGateway } from '../index.js';

// The demo's dashboard (the adapter's `dashboard` option, at /metrics/dashboard; /dashboard redirects there) in
// headless Chromium (Debian's chromium, never a downloaded browser), while the traffic generator drives the gateway.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));
/** Where the desktop and phone screenshots go; set to docs/images/ to refresh the docs' pictures. */
const screenshots = process.env.DASHBOARD_SCREENSHOT_DIR ?? artifacts;

let gateway: Gateway;
let browser: Browser;
/** The ring's points once the first traffic run is over. */
let sampled = 0;

beforeAll(async () => {
  gateway = await startGateway({
    framework: 'fastify',
    port: 0,
    adminToken: null,
    collector: new MetricsCollector(),
    seed: 7,
    // A short history interval, so that the server-side ring fills during the test's few seconds of traffic.
    dashboard: { historyIntervalMs: 100, historySeconds: 60 },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  await runTraffic({ url: gateway.url, durationSeconds: 4, rps: 40, seed: 3, outage: false });
  const history = (await (await fetch(`${gateway.url}/metrics/dashboard/history`)).json()) as { points: unknown[] };
  sampled = history.points.length;
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

/** A page that records console errors, page errors and CSP violations (listened for before any script runs). */
async function openPage(viewport: { width: number; height: number }) {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const violations = () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
  return { page, problems, violations };
}

const pointsOf = (page: Page, chart: string, series: string) =>
  page.evaluate(
    ([c, s]) => {
      const d = document.querySelector(`[data-testid=${c}] path[data-series=${s}]`)?.getAttribute('d') ?? '';
      return d.match(/[ML]/g)?.length ?? 0;
    },
    [chart, series] as const,
  );
const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => e.textContent ?? ''));

it('the first paint already draws the server-side history, with a time axis and y ticks with units', async () => {
  expect(sampled).toBeGreaterThan(5);
  const { page, problems, violations } = await openPage({ width: 1280, height: 800 });
  // Hold every poll of /metrics/json: whatever the charts show must come from the page itself.
  let polls = 0;
  const held: (() => Promise<void>)[] = [];
  await page.route('**/metrics/json', (route) => {
    polls++;
    held.push(() => route.continue());
  });
  const res = await page.goto(`${gateway.url}/dashboard`, { waitUntil: 'load' });
  expect(res?.url()).toBe(`${gateway.url}/metrics/dashboard`);
  expect(res?.status()).toBe(200);
  const csp = res?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  await page.waitForFunction(() => Number(document.body.dataset.renders) >= 1, undefined, { timeout: 10_000 });

  expect(polls).toBeGreaterThanOrEqual(1);
  expect(await page.evaluate(() => document.body.dataset.updates)).toBeUndefined();
  for (const s of ['p50', 'p95', 'p99']) expect(await pointsOf(page, 'latency-chart', s)).toBeGreaterThan(5);
  expect(await pointsOf(page, 'rate-chart', 'rps')).toBeGreaterThan(5);
  expect(await pointsOf(page, 'cache-chart', 'hitRate')).toBeGreaterThan(1);

  for (const chart of ['latency', 'rates', 'cache']) {
    const times = await texts(page, `#${chart} .x-tick`);
    expect(times.length, chart).toBeGreaterThanOrEqual(2);
    for (const t of times) expect(t).toMatch(/^\d\d:\d\d(:\d\d)?$/);
  }
  const yTicks = {
    latency: await texts(page, '#latency .y-tick'),
    rates: await texts(page, '#rates .y-tick'),
    cache: await texts(page, '#cache .y-tick'),
  };
  expect(yTicks.latency.length).toBeGreaterThanOrEqual(3);
  for (const t of yTicks.latency) expect(t).toMatch(/^\d+(\.\d+)? ms$/);
  for (const t of yTicks.rates) expect(t).toMatch(/^\d+(\.\d+)? req\/s$/);
  expect(yTicks.cache).toEqual(['0%', '25%', '50%', '75%', '100%']);

  for (const release of held) await release();
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, undefined, { timeout: 10_000 });
  expect(await violations()).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});

it('draws tokens/s, cost and time-to-first-token panels from the history in the first paint', async () => {
  // A few more streamed OpenAI-style calls (any bearer key), on top of the traffic run's, then two samples.
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-dashboard-test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `hi ${i}` }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
  }
  await new Promise((r) => setTimeout(r, 250));
  const { page, problems, violations } = await openPage({ width: 1280, height: 800 });
  const held: (() => Promise<void>)[] = [];
  await page.route('**/metrics/json', (route) => {
    held.push(() => route.continue());
  });
  await page.goto(`${gateway.url}/metrics/dashboard`, { waitUntil: 'load' });
  await page.waitForFunction(() => Number(document.body.dataset.renders) >= 1, undefined, { timeout: 10_000 });
  expect(await page.evaluate(() => document.body.dataset.updates)).toBeUndefined();
  expect(await pointsOf(page, 'tokens-chart', 'tokensPerSec')).toBeGreaterThan(5);
  expect(await pointsOf(page, 'cost-chart', 'costPerHour')).toBeGreaterThan(5);
  expect(await pointsOf(page, 'ttft-chart', 'ttftAvg')).toBeGreaterThan(1);
  for (const t of await texts(page, '#tokens .y-tick')) expect(t).toMatch(/^\d+(\.\d+)?k? tok\/s$/);
  for (const t of await texts(page, '#cost .y-tick')) expect(t).toMatch(/^\$\d+(\.\d+)?\/h$/);
  for (const t of await texts(page, '#ttft .y-tick')) expect(t).toMatch(/^\d+(\.\d+)? ms$/);
  for (const chart of ['latency', 'rates', 'cache', 'tokens', 'cost', 'ttft']) {
    if (!['latency', 'rates', 'cache'].includes(chart)) {
      expect((await texts(page, `#${chart} .x-tick`)).length, chart).toBeGreaterThanOrEqual(2);
      expect(await texts(page, `#${chart} .empty`), chart).toEqual([]);
    }
    // No y tick label sticks out of its chart on the left (long ones like "2.5k tok/s" widen the margin).
    const clipped = await page.$$eval(`#${chart} .y-tick`, (els) => {
      const left = els[0]?.closest('svg')?.getBoundingClientRect().left ?? 0;
      return els.filter((e) => e.getBoundingClientRect().left < left - 0.5).map((e) => e.textContent);
    });
    expect(clipped, chart).toEqual([]);
  }
  const box = await page.locator('#tokens').boundingBox();
  if (!box) throw new Error('no tokens chart');
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
  await page.locator('[data-testid=tokens-tip]').waitFor({ state: 'visible', timeout: 5000 });
  expect(await page.textContent('[data-testid=tokens-tip]')).toMatch(/tokens\/s: (\d+(\.\d+)? tok\/s|–)/);
  for (const release of held) await release();
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, undefined, { timeout: 10_000 });
  expect(await violations()).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});

it('says "no model calls yet" in the AI panels of a collector without completions', async () => {
  const bare = await startGateway({
    framework: 'fastify',
    port: 0,
    adminToken: null,
    collector: new MetricsCollector(),
    seed: 7,
    dashboard: { historyIntervalMs: 100, historySeconds: 60 },
  });
  try {
    await fetch(`${bare.url}/api/models`);
    await new Promise((r) => setTimeout(r, 350));
    const { page, problems, violations } = await openPage({ width: 1280, height: 800 });
    await page.goto(`${bare.url}/metrics/dashboard`);
    await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, undefined, { timeout: 10_000 });
    for (const chart of ['tokens', 'cost', 'ttft']) {
      expect(await texts(page, `#${chart} .empty`), chart).toEqual(['no model calls yet']);
      expect(await page.locator(`#${chart} path.line`).count(), chart).toBe(0);
    }
    expect(await texts(page, '#latency .empty')).toEqual([]);
    expect(await violations()).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  } finally {
    await bare.close();
  }
});

it('hovering a chart shows a tooltip with the time and the values', async () => {
  const { page, problems, violations } = await openPage({ width: 1280, height: 800 });
  await page.goto(`${gateway.url}/metrics/dashboard`);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, undefined, { timeout: 10_000 });
  const tip = page.locator('[data-testid=latency-tip]');
  expect(await tip.isVisible()).toBe(false);
  const box = await page.locator('#latency').boundingBox();
  if (!box) throw new Error('no latency chart');
  await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2);
  await tip.waitFor({ state: 'visible', timeout: 5000 });
  const text = (await tip.textContent()) ?? '';
  expect(text).toMatch(/^\d\d:\d\d:\d\d/);
  expect(text).toMatch(/p50: \d+(\.\d+)? ms/);
  expect(text).toMatch(/p99: \d+(\.\d+)? ms/);
  expect(await page.locator('#latency .guide').getAttribute('visibility')).toBe('visible');

  const rates = await page.locator('#rates').boundingBox();
  if (!rates) throw new Error('no rate chart');
  await page.mouse.move(rates.x + rates.width * 0.9, rates.y + rates.height / 2);
  await page.locator('[data-testid=rate-tip]').waitFor({ state: 'visible', timeout: 5000 });
  expect(await page.textContent('[data-testid=rate-tip]')).toMatch(/requests\/s: \d+(\.\d+)? req\/s/);
  expect(await tip.isVisible()).toBe(false);

  mkdirSync(screenshots, { recursive: true });
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  await page.screenshot({ path: `${screenshots}dashboard-desktop.png` });
  expect(await violations()).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});

it('fits a 390 px phone with no horizontal overflow', async () => {
  const { page, problems, violations } = await openPage({ width: 390, height: 844 });
  await page.goto(`${gateway.url}/metrics/dashboard`);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, undefined, { timeout: 10_000 });
  expect(await page.locator('#providers tr').count()).toBeGreaterThanOrEqual(3);
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    widest: Math.max(...Array.from(document.querySelectorAll('section')).map((s) => s.getBoundingClientRect().right)),
  }));
  expect(widths.scroll).toBeLessThanOrEqual(390);
  expect(widths.body).toBeLessThanOrEqual(390);
  expect(widths.widest).toBeLessThanOrEqual(390);
  // The charts were drawn for the phone's width, their labels inside it.
  const svg = await page.locator('#latency').boundingBox();
  expect(svg?.width).toBeLessThanOrEqual(390);
  expect(await pointsOf(page, 'latency-chart', 'p99')).toBeGreaterThan(5);
  expect((await texts(page, '#latency .x-tick')).length).toBeGreaterThanOrEqual(2);
  expect(await pointsOf(page, 'tokens-chart', 'tokensPerSec')).toBeGreaterThan(5);
  for (const chart of ['tokens', 'cost', 'ttft']) {
    const b = await page.locator(`#${chart}`).boundingBox();
    expect(b?.width, chart).toBeLessThanOrEqual(390);
    expect((await texts(page, `#${chart} .x-tick`)).length, chart).toBeGreaterThanOrEqual(2);
  }
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: `${screenshots}dashboard-phone.png` });
  expect(await violations()).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});

it('enforces its CSP: an injected inline script is blocked and reported', async () => {
  const { page, violations } = await openPage({ width: 800, height: 600 });
  await page.goto(`${gateway.url}/metrics/dashboard`);
  await page.waitForFunction(() => Number(document.body.dataset.renders) >= 1, undefined, { timeout: 10_000 });
  expect(await violations()).toEqual([]);
  const ran = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true';
    document.body.appendChild(s);
    await new Promise((r) => setTimeout(r, 100));
    return (window as unknown as { inlineRan?: boolean }).inlineRan === true;
  });
  expect(ran).toBe(false);
  expect((await violations()).join('\n')).toMatch(/script-src/);
  await page.close();
});

it('the demo dashboard loads without console errors and its charts move under traffic', async () => {
  const { page, problems, violations } = await openPage({ width: 1280, height: 900 });
  const traffic = runTraffic({
    url: gateway.url,
    durationSeconds: 6,
    rps: 40,
    seed: 3,
    outage: { provider: 'google', at: 0.3, for: 0.3 },
  });

  const res = await page.goto(`${gateway.url}/dashboard`);
  expect(res?.status()).toBe(200);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 2, undefined, { timeout: 15_000 });
  const before = {
    summary: await page.textContent('#summary'),
    p99: await page.getAttribute('[data-testid=latency-chart] path[data-series=p99]', 'd'),
  };
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 5, undefined, { timeout: 15_000 });
  const after = {
    summary: await page.textContent('#summary'),
    p99: await page.getAttribute('[data-testid=latency-chart] path[data-series=p99]', 'd'),
  };
  expect(after.summary).not.toBe(before.summary);
  expect(after.p99).toBeTruthy();
  expect(after.p99).not.toBe(before.p99);
  expect(await page.locator('[data-testid=rate-chart] path[data-series=rps]').count()).toBe(1);
  expect(await page.textContent('[data-testid=health]')).toMatch(/^(healthy|degraded|unhealthy)$/);
  expect(await page.locator('#providers tr').count()).toBeGreaterThanOrEqual(3);
  expect(await page.locator('#models tr').count()).toBeGreaterThanOrEqual(3);
  expect(await page.textContent('#cachenow')).toMatch(/hit rate \d/);

  await traffic;
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: `${artifacts}gateway-dashboard.png`, fullPage: true });
  expect(await violations()).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});
