import { MetricsCollector } from '@gatewayz/metrics-core';
import { expect, it } from 'vitest';
import { createMetricsHandlers, dashboardHtml } from '../index.js';

// The page itself is exercised in headless Chromium by apps/gateway's dashboard.browser.test.ts.

it('escapes its title and configuration', () => {
  const html = dashboardHtml({ jsonPath: '/m/json</script><script>alert(1)</script>', title: '<b>x</b>' });
  expect(html).not.toContain('</script><script>alert(1)');
  expect(html).toContain('&#60;b&#62;x&#60;/b&#62;');
});

it('is served at {prefix}/dashboard only when enabled, with a strict content security policy', async () => {
  const collector = new MetricsCollector();
  const off = createMetricsHandlers({ collector, adminToken: null });
  expect(await off.handle({ method: 'GET', path: '/metrics/dashboard', headers: {} })).toBeUndefined();

  const on = createMetricsHandlers({ collector, adminToken: null, prefix: '/m', dashboard: { intervalMs: 500 } });
  const r = await on.handle({ method: 'GET', path: '/m/dashboard', headers: {} });
  expect(r?.status).toBe(200);
  expect(r?.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(r?.headers['content-security-policy']).toContain("default-src 'none'");
  expect(String(r?.body)).toContain('"jsonPath":"/m/json"');
  expect(String(r?.body)).toContain('"intervalMs":500');
  const post = await on.handle({ method: 'POST', path: '/m/dashboard', headers: {} });
  expect(post?.status).toBe(405);
});
