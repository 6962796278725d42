import { createServer } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { registerPromClientMetrics } from '@gatewayz/metrics-exporter';
import { listenNode, parseExposition, sampleValue } from '@gatewayz/test-utils';
import express from 'express';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { expressMetrics } from '../index.js';

describe('prom-client interop over HTTP', () => {
  it('append: () => register.metrics() serves a prom-client registry from our /metrics', async () => {
    const register = new Registry();
    new Counter({ name: 'legacy_jobs_total', help: 'Jobs.', registers: [register] }).inc(5);
    const app = express();
    app.use(expressMetrics({ collector: new MetricsCollector(), append: () => register.metrics() }));
    app.get('/x', (_req, res) => {
      res.send('x');
    });
    const server = await listenNode(createServer(app));
    try {
      await fetch(`${server.url}/x`);
      const body = await (await fetch(`${server.url}/metrics`)).text();
      const s = parseExposition(body);
      expect(sampleValue(s, 'legacy_jobs_total')).toBe(5);
      expect(sampleValue(s, 'http_requests_total', { endpoint: '/x', method: 'GET' })).toBe(1);
      const om = await fetch(`${server.url}/metrics`, {
        headers: { accept: 'application/openmetrics-text;version=1.0.0' },
      });
      const omBody = await om.text();
      expect(omBody.match(/# EOF/g)).toHaveLength(1);
      expect(omBody.endsWith('# EOF\n')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('registerPromClientMetrics puts our metrics into a /metrics that prom-client serves', async () => {
    const register = new Registry();
    const collector = new MetricsCollector();
    registerPromClientMetrics(register, { collector });
    const app = express();
    app.use(expressMetrics({ collector, prefix: '/gatewayz' }));
    app.get('/metrics', async (_req, res) => {
      res.set('content-type', register.contentType).send(await register.metrics());
    });
    app.get('/api/items/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const server = await listenNode(createServer(app));
    try {
      for (const id of ['1', '2']) await fetch(`${server.url}/api/items/${id}`);
      const s = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      expect(sampleValue(s, 'http_requests_total', { endpoint: '/api/items/:id', method: 'GET' })).toBe(2);
    } finally {
      await server.close();
    }
  });
});
