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

describe('koaMetrics and ctx._matchedRoute', () => {
  it('reads the template through one accessor on app.context: ctx gets no own property, excluded requests included', async () => {
    const Router = (await import('@koa/router')).default;
    const collector = new MetricsCollector();
    const app = new Koa();
    app.use(koaMetrics({ collector, exclude: '/skip' }));
    const seen: Record<string, [unknown, boolean]> = {};
    const router = new Router();
    for (const path of ['/items/:id', '/skip/:id']) {
      router.get(path, (ctx) => {
        seen[path] = [ctx._matchedRoute, Object.hasOwn(ctx, '_matchedRoute')];
        ctx.body = 'ok';
      });
    }
    app.use(router.routes());
    const server = await listenNode(createServer(app.callback()));
    try {
      expect((await fetch(`${server.url}/items/1`)).status).toBe(200);
      expect((await fetch(`${server.url}/skip/1`)).status).toBe(200);
      expect(seen['/items/:id']).toEqual(['/items/:id', false]);
      expect(seen['/skip/:id']).toEqual(['/skip/:id', false]);
      expect(Object.getOwnPropertyDescriptor(app.context, '_matchedRoute')?.set).toBeTypeOf('function');
      const endpoints = collector.snapshot().endpoints.map((e) => e.endpoint);
      expect(endpoints).toEqual(['/items/:id']);
    } finally {
      await server.close();
    }
  });
});
