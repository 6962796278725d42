import { MetricsCollector } from '@gatewayz/metrics-core';
import { metricsDashboard } from '@gatewayz/metrics-exporter/dashboard';
import { BAD_ADAPTER_OPTIONS, expectOptionError, GOOD_TOKEN } from '@gatewayz/test-utils';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { fastifyMetrics } from '../index.js';

describe('fastifyMetrics refuses bad options when registered', () => {
  it.each(BAD_ADAPTER_OPTIONS)('$name', async ({ options, message }) => {
    const app = Fastify();
    app.register(fastifyMetrics, { collector: new MetricsCollector(), ...options });
    let error: unknown;
    try {
      await app.ready();
    } catch (e) {
      error = e;
    }
    expectOptionError(error, '@gatewayz/metrics-fastify', message);
    await app.close();
  });

  it("takes every valid option, and Fastify's own register options (logLevel)", async () => {
    const collector = new MetricsCollector();
    const app = Fastify();
    await app.register(fastifyMetrics, {
      collector,
      adminToken: GOOD_TOKEN,
      dashboard: metricsDashboard(),
      protobuf: false,
      logLevel: 'warn',
    } as never);
    app.get('/x', async () => 'x');
    await app.inject({ url: '/x' });
    const reset = await app.inject({
      method: 'POST',
      url: '/metrics/reset',
      headers: { authorization: `Bearer ${GOOD_TOKEN}` },
    });
    expect(reset.statusCode).toBe(200);
    expect(collector.snapshot().totals.requests).toBe(0);
    expect((await app.inject({ url: '/metrics/dashboard' })).statusCode).toBe(200);
    await app.close();
  });

  it('takes cacheMs (issue 14): scrapes within it get the same rendering, later ones a fresh one', async () => {
    const collector = new MetricsCollector();
    const app = Fastify();
    await app.register(fastifyMetrics, { collector, cacheMs: 400 });
    app.get('/x', async () => 'x');
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await fetch(`${server}/x`);
      const first = await (await fetch(`${server}/metrics`)).text();
      await fetch(`${server}/x`);
      expect(collector.snapshot().totals.requests).toBe(2);
      expect(await (await fetch(`${server}/metrics`)).text()).toBe(first);
      await new Promise((r) => setTimeout(r, 450));
      expect(await (await fetch(`${server}/metrics`)).text()).toMatch(/http_requests_total\{[^}]*\} 2\n/);
    } finally {
      await app.close();
    }
  });
});
