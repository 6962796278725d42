/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Gateway, runTraffic, startGateway } from '../index.js';

// The demo's /dashboard in headless Chromium (Debian's chromium, never a downloaded browser),
// while the traffic generator drives the gateway.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

// The outage goes through the admin route, which is off without a token.
const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
let gateway: Gateway;
let browser: Browser;

beforeAll(async () => {
  gateway = await startGateway({
    framework: 'fastify',
    port: 0,
    adminToken: ADMIN_TOKEN,
    collector: new MetricsCollector(),
    seed: 7,
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
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

it('the demo dashboard loads without console errors and its charts move under traffic', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  const traffic = runTraffic({
    url: gateway.url,
    durationSeconds: 6,
    rps: 40,
    seed: 3,
    adminToken: ADMIN_TOKEN,
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
  expect(problems).toEqual([]);
  await page.close();
});
