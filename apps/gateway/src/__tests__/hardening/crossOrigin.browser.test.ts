/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, sampleValue } from '@gatewayz/test-utils';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS, startGateway } from '../../gateway.js';
import { ADMIN_TOKEN, http } from './helpers.js';

/**
 * A page on another origin (headless Chromium) tries to start an outage through the demo's admin
 * route: a form post (no preflight), a `no-cors` fetch (no preflight) and a fetch with a guessed
 * bearer token (preflighted). Without METRICS_ADMIN_TOKEN the route is off; with it, the page cannot
 * know the token. Either way the provider stays up, while the gateway's own metrics prove the
 * simple requests did arrive.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROUTE = '/api/admin/providers/:name/outage';

let browser: Browser;
let evil: Server;
let evilUrl = '';
let target = '';

beforeAll(async () => {
  // The attacker's page, on localhost (another origin and site than the gateway's 127.0.0.1).
  evil = createServer((_req, res) => {
    const outage = `${target}/api/admin/providers/anthropic/outage`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="${outage}" enctype="text/plain" target="sink">
  <input name='{"seconds": 86400, "x": "' value='"}'>
</form>
<script>
  const outage = ${JSON.stringify(outage)};
  const body = '{"seconds": 86400}';
  Promise.allSettled([
    fetch(outage, { method: 'POST', mode: 'no-cors', body, headers: { 'content-type': 'text/plain' } }),
    fetch(outage, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer guess-guess-guess-guess' } }),
    fetch(outage, { method: 'DELETE', mode: 'no-cors' }),
  ]).then(() => { document.getElementById('f').submit(); document.body.dataset.done = '1'; });
</script>`);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => evil?.close(resolve));
});

describe.each(FRAMEWORKS)('on %s', (framework) => {
  it.each([
    ['without a token', null],
    ['with a token', ADMIN_TOKEN],
  ] as const)('a cross-origin page cannot start an outage (%s)', async (_why, adminToken) => {
    const collector = new MetricsCollector();
    const gw = await startGateway({ framework, collector, adminToken, seed: 2 });
    const page = await browser.newPage();
    try {
      target = gw.url;
      await page.goto(evilUrl);
      await page.waitForFunction(() => document.body.dataset.done === '1', undefined, { timeout: 10_000 });
      // Wait until the form post and the no-cors fetch reached the gateway (and were answered).
      const deadline = Date.now() + 10_000;
      let arrived = 0;
      while (Date.now() < deadline) {
        const samples = parseExposition((await http(`${gw.url}/metrics`)).body);
        arrived = sampleValue(samples, 'http_requests_total', { endpoint: ROUTE, method: 'POST' });
        if (arrived >= 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(arrived, 'the form post and the no-cors fetch arrived').toBeGreaterThanOrEqual(2);
      const providers = JSON.parse((await http(`${gw.url}/api/providers`)).body) as {
        providers: { name: string; status: string }[];
      };
      expect(providers.providers.find((p) => p.name === 'anthropic')?.status).toBe('up');
      const samples = parseExposition((await http(`${gw.url}/metrics`)).body);
      expect(
        sampleValue(samples, 'http_response_status_total', { endpoint: ROUTE, status: '200' }),
        'no admin request succeeded',
      ).toBe(0);
    } finally {
      await page.close();
      await gw.close();
    }
  });
});
