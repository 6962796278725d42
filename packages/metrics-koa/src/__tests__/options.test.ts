import { createServer } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { metricsDashboard } from '@gatewayz/metrics-exporter/dashboard';
import { BAD_ADAPTER_OPTIONS, expectOptionError, GOOD_TOKEN, listenNode } from '@gatewayz/test-utils';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { koaMetrics } from '../index.js';

describe('koaMetrics refuses bad options at construction', () => {
  it.each(BAD_ADAPTER_OPTIONS)('$name', ({ options, message }) => {
    let error: unknown;
    try {
      koaMetrics({ collector: new MetricsCollector(), ...options });
    } catch (e) {
      error = e;
    }
    expectOptionError(error, '@gatewayz/metrics-koa', message);
  });

  it('takes every valid option on a real server: reset with the token, the dashboard', async () => {
    const collector = new MetricsCollector();
    const app = new Koa();
    app.use(koaMetrics({ collector, adminToken: GOOD_TOKEN, dashboard: metricsDashboard(), protobuf: false }));
    app.use((ctx) => {
      ctx.body = 'x';
    });
    const server = await listenNode(createServer(app.callback()));
    try {
      await fetch(`${server.url}/x`);
      const reset = await fetch(`${server.url}/metrics/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GOOD_TOKEN}` },
      });
      expect(reset.status).toBe(200);
      expect(collector.snapshot().totals.requests).toBe(0);
      expect((await fetch(`${server.url}/metrics/dashboard`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('takes cacheMs (issue 14): scrapes within it get the same rendering, later ones a fresh one', async () => {
    const collector = new MetricsCollector();
    const app = new Koa();
    app.use(koaMetrics({ collector, cacheMs: 400 }));
    app.use((ctx) => {
      ctx.body = 'x';
    });
    const server = await listenNode(createServer(app.callback()));
    try {
      await fetch(`${server.url}/x`);
      const first = await (await fetch(`${server.url}/metrics`)).text();
      await fetch(`${server.url}/x`);
      expect(collector.snapshot().totals.requests).toBe(2);
      expect(await (await fetch(`${server.url}/metrics`)).text()).toBe(first);
      await new Promise((r) => setTimeout(r, 450));
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/http_requests_total\{[^}]*\} 2\n/);
    } finally {
      await server.close();
    }
  });
});
