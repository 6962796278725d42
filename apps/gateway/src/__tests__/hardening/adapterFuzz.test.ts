import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { createMetricsHandlers } from '@gatewayz/metrics-exporter';
import { expressMetrics, setMetricsLabels as setExpressLabels } from '@gatewayz/metrics-express';
import { fastifyMetrics, setMetricsLabels as setFastifyLabels } from '@gatewayz/metrics-fastify';
import { koaMetrics, setMetricsLabels as setKoaLabels } from '@gatewayz/metrics-koa';
import Router from '@koa/router';
import express from 'express';
import fc from 'fast-check';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { readBody } from '../../readBody.js';
import { http, labelValues, promtool, scrape, sumOf } from './helpers.js';

/**
 * The adapters' request path under hostile input, over real HTTP: arbitrary bytes in the path,
 * methods, provider/model labels from a JSON body (lone surrogates, control characters, `"}\n`
 * injections, 1 MiB values) and any status Node lets a handler send (200-999; 600+ are invalid for
 * the collector). Every request is answered and recorded; /metrics stays promtool-clean.
 */

const MIB = 1 << 20;
const LIMIT = 8 * MIB;

interface Echo {
  provider?: unknown;
  model?: unknown;
  status: number;
}

interface App {
  url: string;
  collector: MetricsCollector;
  close(): Promise<void>;
}

const labelsOf = (e: Echo) => ({ provider: e.provider as string, model: e.model as string });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const closer = (server: Server) => () =>
  new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });

const APPS: Record<string, () => Promise<App>> = {
  async express() {
    const collector = new MetricsCollector();
    const app = express();
    app.use(expressMetrics({ collector, adminToken: null }));
    app.post('/echo/:id', express.json({ limit: LIMIT }), (req, res) => {
      const e = req.body as Echo;
      setExpressLabels(req, labelsOf(e));
      res.status(e.status).send('ok');
    });
    const server = createServer(app);
    return { url: await listen(server), collector, close: closer(server) };
  },
  async fastify() {
    const collector = new MetricsCollector();
    const app = Fastify({ bodyLimit: LIMIT });
    await app.register(fastifyMetrics, { collector, adminToken: null });
    app.post('/echo/:id', async (request, reply) => {
      const e = request.body as Echo;
      setFastifyLabels(request, labelsOf(e));
      return reply.code(e.status).send('ok');
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, collector, close: () => app.close() };
  },
  async koa() {
    const collector = new MetricsCollector();
    const app = new Koa();
    const router = new Router();
    router.post('/echo/:id', async (ctx) => {
      const e = JSON.parse(await readBody(ctx.req, LIMIT)) as Echo;
      setKoaLabels(ctx, labelsOf(e));
      ctx.status = e.status;
      ctx.body = 'ok';
    });
    app.use(koaMetrics({ collector, adminToken: null }));
    app.use(router.routes());
    const server = createServer(app.callback());
    return { url: await listen(server), collector, close: closer(server) };
  },
};

const byte = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`);
const segment = fc.oneof(
  fc.string({ unit: byte, maxLength: 12 }),
  fc.constantFrom('..', '%2e%2e', '%22%7d%0a', 'metrics', 'x?y=%22%7D%0A', '%ED%A0%80', ''),
);
const path = fc.oneof(
  fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
  segment.map((s) => `/echo/${s === '' ? 'x' : s}`),
);
const huge = ['\ud800'.repeat(MIB), `"}\n${'y'.repeat(MIB)}`, '\u0000\n\u001b'.repeat(MIB / 3)];
const label = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc
    .array(fc.constantFrom('"}\n', '\\', '\ud800', '\udfff', '\u0000', '\r\n', '# EOF', 'gpt-4o'), { maxLength: 6 })
    .map((a) => a.join('')),
  fc.constantFrom<unknown>(null, 42, true, { a: 1 }, [1], ...huge),
  fc.constant(undefined),
);
const request = fc.record({
  path,
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  echo: fc.record({ provider: label, model: label, status: fc.integer({ min: 200, max: 999 }) }),
});

const metricsPaths = createMetricsHandlers({ collector: new MetricsCollector(), adminToken: null });
const tried: string[] = [];
afterAll(() => console.info(`adapter request-path fuzz: ${tried.join('; ')}`));

describe.each(Object.keys(APPS))('the %s adapter under hostile requests', (name) => {
  it('answers and records every request; /metrics stays valid, bounded and promtool-clean', async () => {
    const app = await APPS[name]!();
    let sent = 0;
    let recorded = 0;
    let invalidStatus = 0;
    let bodyBytes = 0;
    try {
      await fc.assert(
        fc.asyncProperty(request, async ({ path, method, echo }) => {
          const hasBody = method !== 'GET';
          const body = hasBody ? JSON.stringify(echo) : undefined;
          const res = await http(`${app.url}${path}`, {
            method,
            ...(body !== undefined && { body, headers: { 'content-type': 'application/json' } }),
          });
          sent++;
          bodyBytes += body?.length ?? 0;
          // A route that matched answers the status asked for, or the framework refuses it with a 500
          // (Fastify allows 100-599 only); anything else is the framework's 4xx.
          const ok = res.status < 500 || res.status === echo.status || (name === 'fastify' && echo.status >= 600);
          expect(ok, `${method} ${path} -> ${res.status}`).toBe(true);
          // The metrics endpoints themselves are not recorded (the client resolves `..` before sending).
          const sentPath = new URL(`${app.url}${path}`);
          if (metricsPaths.owns(`${sentPath.pathname}${sentPath.search}`)) return;
          recorded++;
          if (res.status >= 600) invalidStatus++;
        }),
        { numRuns: 250 },
      );
      const { text, samples } = await scrape(app.url);
      expect(promtool(text)).toEqual({ status: 0, output: '' });
      expect(sumOf(samples, 'http_requests_total')).toBe(recorded);
      const dropped = samples.find(
        (s) => s.name === 'gatewayz_metrics_dropped_values_total' && s.labels.reason === 'invalid_status',
      );
      expect(dropped?.value ?? 0).toBe(invalidStatus);
      // Endpoints are the route template or the unmatched constant, never a raw path.
      const endpoints = labelValues(samples, 'http_requests_total', 'endpoint');
      for (const e of endpoints) expect(['/echo/:id', '__unmatched__']).toContain(e);
      for (const l of [
        ...labelValues(samples, 'provider_requests_total', 'provider'),
        ...labelValues(samples, 'model_requests_total', 'model'),
      ]) {
        expect(l.length).toBeLessThanOrEqual(128);
        expect(l.isWellFormed()).toBe(true);
      }
      expect(text.length).toBeLessThan(512 * 1024);
      expect(seedView(app.collector.state()).dropped.internal_error).toBeUndefined();
      tried.push(
        `${name}: ${sent} requests (${sent - recorded} to /metrics*), ${(bodyBytes / MIB).toFixed(1)} MiB of bodies`,
      );
    } finally {
      await app.close();
    }
  });
});
