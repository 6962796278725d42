/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMetricsHandlers, dashboardHtml } from '../index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

let server: Server;
let browser: Browser;
let base: string;
let traffic: NodeJS.Timeout;
const collector = new MetricsCollector();

beforeAll(async () => {
  const handlers = createMetricsHandlers({
    collector,
    adminToken: null,
    dashboard: { intervalMs: 250, title: 'test <gateway>' },
  });
  server = createServer(async (req, res) => {
    const out = await handlers.handle({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    res.writeHead(out?.status ?? 404, out?.headers ?? {}).end(out?.body ?? 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let i = 0;
  traffic = setInterval(() => {
    for (let k = 0; k < 20; k++, i++) {
      collector.recordRequest({
        endpoint: '/api/chat',
        method: 'POST',
        latencySeconds: 0.02 + ((i * 37) % 100) / 400,
        statusCode: i % 25 === 0 ? 502 : 200,
        provider: ['openai', 'anthropic', 'google'][i % 3],
        model: ['gpt-4o', 'claude-3-5-sonnet', 'gemini-1.5-pro'][i % 3],
      });
      if (i % 3 === 0) collector.recordCacheHit();
      else collector.recordCacheMiss();
    }
  }, 50);
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
  clearInterval(traffic);
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

it('the dashboard page escapes its title and configuration', () => {
  const html = dashboardHtml({ jsonPath: '/m/json</script><script>alert(1)</script>', title: '<b>x</b>' });
  expect(html).not.toContain('</script><script>alert(1)');
  expect(html).toContain('&#60;b&#62;x&#60;/b&#62;');
});

it('loads with no console errors and its charts update under traffic', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  const res = await page.goto(`${base}/metrics/dashboard`);
  expect(res?.status()).toBe(200);
  expect(res?.headers()['content-type']).toContain('text/html');

  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 3, undefined, { timeout: 15_000 });
  const first = await page.getAttribute('[data-testid=latency-chart] path[data-series=p99]', 'd');
  const summary1 = await page.textContent('#summary');
  await page.waitForFunction((n) => Number(document.body.dataset.updates) >= n, 8, { timeout: 15_000 });
  const second = await page.getAttribute('[data-testid=latency-chart] path[data-series=p99]', 'd');
  const summary2 = await page.textContent('#summary');

  expect(first).toBeTruthy();
  expect(second).not.toBe(first);
  expect(summary2).not.toBe(summary1);
  expect(await page.locator('[data-testid=rate-chart] path[data-series=rps]').count()).toBe(1);
  expect(await page.locator('[data-testid=cache-chart] path').count()).toBe(1);
  expect(await page.textContent('[data-testid=health]')).toMatch(/healthy|degraded|unhealthy/);
  expect(await page.locator('#providers tr').count()).toBe(3);
  expect(await page.locator('#models tr').count()).toBe(3);
  expect(await page.textContent('#providers')).toContain('anthropic');
  expect(await page.textContent('#error')).toBe('');

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: `${artifacts}dashboard.png`, fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
});
