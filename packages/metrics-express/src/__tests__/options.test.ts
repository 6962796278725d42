import { createServer } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { metricsDashboard } from '@gatewayz/metrics-exporter/dashboard';
import { BAD_ADAPTER_OPTIONS, expectOptionError, GOOD_TOKEN, listenNode } from '@gatewayz/test-utils';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { expressMetrics } from '../index.js';

describe('expressMetrics refuses bad options at construction', () => {
  it.each(BAD_ADAPTER_OPTIONS)('$name', ({ options, message }) => {
    let error: unknown;
    try {
      expressMetrics({ collector: new MetricsCollector(), ...options });
    } catch (e) {
      error = e;
    }
    expectOptionError(error, '@gatewayz/metrics-express', message);
  });

  it('takes every valid option on a real server: reset with the token, the dashboard, no protobuf', async () => {
    const collector = new MetricsCollector();
    const app = express();
    app.use(
      expressMetrics({
        collector,
        adminToken: GOOD_TOKEN,
        dashboard: metricsDashboard({ title: 't' }),
        protobuf: false,
      }),
    );
    app.get('/x', (_req, res) => {
      res.send('x');
    });
    const server = await listenNode(createServer(app));
    try {
      await fetch(`${server.url}/x`);
      const reset = await fetch(`${server.url}/metrics/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GOOD_TOKEN}` },
      });
      expect(reset.status).toBe(200);
      expect(collector.snapshot().totals.requests).toBe(0);
      expect((await fetch(`${server.url}/metrics/dashboard`)).status).toBe(200);
      const proto = await fetch(`${server.url}/metrics`, {
        headers: {
          accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
        },
      });
      expect(proto.headers.get('content-type')).not.toMatch(/protobuf/);
    } finally {
      await server.close();
    }
  });

  it('takes cacheMs (issue 14): scrapes within it get the same rendering, later ones a fresh one', async () => {
    const collector = new MetricsCollector();
    const app = express();
    app.use(expressMetrics({ collector, cacheMs: 400 }));
    app.get('/x', (_req, res) => {
      res.send('x');
    });
    const server = await listenNode(createServer(app));
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
