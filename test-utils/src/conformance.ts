import { MetricsCollector } from '@gatewayz/metrics-core';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '@gatewayz/metrics-exporter';
import type { HttpMetricsOptions } from '@gatewayz/metrics-exporter/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCases } from './clientConformance.js';
import { exemplarCases } from './exemplarConformance.js';
import { parseExposition, type Sample, sampleValue } from './exposition.js';
import { streamCases } from './streamConformance.js';

/**
 * What a factory builds: a real app of its framework, listening on 127.0.0.1, with these routes.
 * Every handler must behave the same in every framework:
 * - `GET /api/users/:id` → 200 JSON `{ id }`
 * - `POST /api/chat` → calls `setMetricsLabels(reqOrCtx, { provider: 'openai', model: 'gpt-4o' })`, then 200 JSON `{ reply: 'ok' }`
 * - `GET /api/boom` → throws `new Error('boom')` (the framework's own error response)
 * - `GET /api/bad` → throws an error with `status` and `statusCode` 400 and `expose: true`, message `'bad input'`
 * - `GET /api/unavailable` → 503, text body `unavailable`
 * - `GET /healthz` → 200, text body `ok`
 * - `POST /api/upload` → reads the whole (JSON) request body, then 200 JSON `{ ok: true }`
 * - `GET /api/stream` → 200 `text/plain`, the body streamed from `chunkStream(query)` the framework's own way
 *   (Express: `pipeline(stream, res)`; Fastify: `reply.send(stream)`; Koa: `ctx.body = stream`)
 * - a nested router or prefix `/api/v1` with `GET /items/:itemId` → 200 JSON `{ itemId }`
 *   and `GET /fail` → throws `new Error('nested boom')`
 */
export interface ConformanceApp {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

export interface ConformanceAppOptions {
  /** Adapter options, or `false` for the same app without the adapter (the control). */
  metrics: HttpMetricsOptions<any> | false;
}

export type ConformanceFactory = (options: ConformanceAppOptions) => Promise<ConformanceApp>;

export interface ConformanceMeta {
  /** Package name that option errors must start with. */
  packageName: string;
}

const TOKEN = 'conformance-admin-token-0123456789';
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Runs `count` calls of `fn`, `concurrency` at a time. */
export async function inParallel(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function send(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** One conformance suite, run against every framework adapter over real HTTP. */
export function runConformanceSuite(name: string, factory: ConformanceFactory, meta: ConformanceMeta): void {
  describe(`${name} conformance`, () => {
    const collector = new MetricsCollector();
    let app: ConformanceApp;
    let control: ConformanceApp;
    const scrape = async (): Promise<Sample[]> => parseExposition((await send(`${app.url}/metrics`)).body);
    const value = async (metric: string, labels: Record<string, string>) => sampleValue(await scrape(), metric, labels);

    beforeAll(async () => {
      app = await factory({
        metrics: {
          collector,
          adminToken: TOKEN,
          exclude: ['/healthz'],
          labels: (req: { headers: Record<string, unknown> }) => {
            const provider = req.headers['x-provider'];
            return typeof provider === 'string' ? { provider } : undefined;
          },
        },
      });
      control = await factory({ metrics: false });
    });
    afterAll(async () => {
      await app?.close();
      await control?.close();
    });

    clientCases({ url: () => app.url, collector });
    streamCases({ url: () => app.url, collector });
    exemplarCases({ url: () => app.url, collector });

    it("leaves the app's own responses unchanged", async () => {
      const cases: [string, RequestInit?][] = [
        ['/api/users/42'],
        ['/api/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":"hi"}' }],
        ['/api/boom'],
        ['/api/bad'],
        ['/api/unavailable'],
        ['/healthz'],
        ['/api/v1/items/7'],
        ['/api/v1/fail'],
        ['/api/stream?chunks=3&ms=10'],
        ['/no/such/path?x=1'],
      ];
      for (const [path, init] of cases) {
        expect(await send(app.url + path, init), path).toEqual(await send(control.url + path, init));
      }
      expect((await send(`${app.url}/api/boom`)).status).toBe(500);
    });

    it('labels 2,000 distinct ids with ONE endpoint: the route template', async () => {
      collector.reset();
      await inParallel(2000, 50, async (i) =>
        expect((await send(`${app.url}/api/users/${i * 7919}`)).status).toBe(200),
      );
      await inParallel(50, 10, async (i) => expect((await send(`${app.url}/api/v1/items/${i}`)).status).toBe(200));
      const samples = (await scrape()).filter((s) => s.name === 'http_requests_total');
      expect(samples.map((s) => s.labels.endpoint).sort()).toEqual(['/api/users/:id', '/api/v1/items/:itemId']);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/api/users/:id', method: 'GET' })).toBe(2000);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/api/v1/items/:itemId', method: 'GET' })).toBe(
        50,
      );
    });

    it('keeps a 404 flood of 2,000 random paths in one unmatched series', async () => {
      collector.reset();
      await inParallel(2000, 50, async (i) => {
        const path = `/scan/${Math.random().toString(36).slice(2)}/${i}.php?q=${i}`;
        expect((await send(app.url + path)).status).toBe(404);
      });
      const samples = await scrape();
      const endpoints = new Set(samples.filter((s) => 'endpoint' in s.labels).map((s) => s.labels.endpoint));
      expect([...endpoints]).toEqual(['__unmatched__']);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '__unmatched__', method: 'GET' })).toBe(2000);
      expect(sampleValue(samples, 'http_response_status_total', { endpoint: '__unmatched__', status: '404' })).toBe(
        2000,
      );
      expect(sampleValue(samples, 'http_request_errors_total', { endpoint: '__unmatched__', method: 'GET' })).toBe(0);
    });

    it('counts thrown errors with the status sent, 503 as an error and 404 not', async () => {
      collector.reset();
      expect((await send(`${app.url}/api/boom`)).status).toBe(500);
      expect((await send(`${app.url}/api/bad`)).status).toBe(400);
      expect((await send(`${app.url}/api/unavailable`)).status).toBe(503);
      expect((await send(`${app.url}/api/v1/fail`)).status).toBe(500);
      expect((await send(`${app.url}/nope`)).status).toBe(404);
      const s = await scrape();
      const errors = (endpoint: string) => sampleValue(s, 'http_request_errors_total', { endpoint, method: 'GET' });
      const status = (endpoint: string, code: string) =>
        sampleValue(s, 'http_response_status_total', { endpoint, status: code });
      expect([errors('/api/boom'), status('/api/boom', '500')]).toEqual([1, 1]);
      expect([errors('/api/bad'), status('/api/bad', '400')]).toEqual([1, 1]);
      expect([errors('/api/unavailable'), status('/api/unavailable', '503')]).toEqual([1, 1]);
      expect([errors('/api/v1/fail'), status('/api/v1/fail', '500')]).toEqual([1, 1]);
      expect([errors('__unmatched__'), status('__unmatched__', '404')]).toEqual([0, 1]);
    });

    it('attaches provider and model from setMetricsLabels and the labels hook', async () => {
      collector.reset();
      const chat = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":"test"}' };
      await inParallel(3, 3, () => send(`${app.url}/api/chat`, chat));
      await send(`${app.url}/api/users/1`, { headers: { 'x-provider': 'anthropic' } });
      expect(await value('provider_requests_total', { provider: 'openai' })).toBe(3);
      expect(await value('model_requests_total', { model: 'gpt-4o' })).toBe(3);
      expect(await value('provider_requests_total', { provider: 'anthropic' })).toBe(1);
      expect(await value('http_requests_total', { endpoint: '/api/chat', method: 'POST' })).toBe(3);
    });

    it('does not record excluded paths or the metrics endpoints', async () => {
      collector.reset();
      expect(await send(`${app.url}/healthz`)).toMatchObject({ status: 200, body: 'ok' });
      await send(`${app.url}/metrics/json`);
      await send(`${app.url}/metrics/health`);
      const endpoints = (await scrape()).filter((s) => s.name === 'http_requests_total').map((s) => s.labels.endpoint);
      expect(endpoints).toEqual([]);
    });

    it('serves all four endpoints', async () => {
      const metrics = await send(`${app.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('# TYPE http_requests_total counter');
      const json = await send(`${app.url}/metrics/json`);
      expect(json.status).toBe(200);
      expect(JSON.parse(json.body)).toHaveProperty('health');
      const health = await send(`${app.url}/metrics/health`);
      expect([200, 503]).toContain(health.status);
      expect(JSON.parse(health.body)).toHaveProperty('status');
      const reset = await send(`${app.url}/metrics/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(reset.status).toBe(200);
    });

    it('negotiates 0.0.4 text by default and OpenMetrics for Prometheus', async () => {
      const text = await send(`${app.url}/metrics`);
      expect(text.contentType).toBe(TEXT_CONTENT_TYPE);
      expect(text.body).not.toContain('# EOF');
      const om = await send(`${app.url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT } });
      expect(om.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
      expect(om.body.endsWith('# EOF\n')).toBe(true);
    });

    it('refuses reset without or with a wrong token, and accepts the right one', async () => {
      await send(`${app.url}/api/users/1`);
      const reset = (authorization?: string) =>
        send(`${app.url}/metrics/reset`, { method: 'POST', headers: authorization ? { authorization } : {} });
      expect((await reset()).status).toBe(401);
      expect((await reset('Bearer wrong-token-wrong-token-00')).status).toBe(403);
      expect(await value('http_requests_total', { endpoint: '/api/users/:id', method: 'GET' })).toBeGreaterThan(0);
      expect((await send(`${app.url}/metrics/reset`, { method: 'GET' })).status).toBe(405);
      expect((await reset(`Bearer ${TOKEN}`)).status).toBe(200);
      expect(await value('http_requests_total', { endpoint: '/api/users/:id', method: 'GET' })).toBe(0);
      await send(`${app.url}/api/users/2`);
      expect(await value('http_requests_total', { endpoint: '/api/users/:id', method: 'GET' })).toBe(1);
    });

    it('disables reset when no admin token is configured', async () => {
      const previous = process.env.METRICS_ADMIN_TOKEN;
      delete process.env.METRICS_ADMIN_TOKEN;
      const open = await factory({ metrics: { collector: new MetricsCollector() } });
      try {
        const res = await send(`${open.url}/metrics/reset`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(res.status).toBe(403);
      } finally {
        await open.close();
        if (previous !== undefined) process.env.METRICS_ADMIN_TOKEN = previous;
      }
    });

    it('serves under a custom prefix', async () => {
      const other = await factory({ metrics: { collector: new MetricsCollector(), prefix: '/internal/metrics' } });
      try {
        await send(`${other.url}/api/users/1`);
        const res = await send(`${other.url}/internal/metrics`);
        expect(res.status).toBe(200);
        expect(
          sampleValue(parseExposition(res.body), 'http_requests_total', { endpoint: '/api/users/:id', method: 'GET' }),
        ).toBe(1);
      } finally {
        await other.close();
      }
    });

    it('rejects bad options with a TypeError naming the package', async () => {
      for (const metrics of [
        { unmatchedLabel: '' },
        { adminToken: 'short' },
        { exclude: 42 as never },
        { labels: 'x' as never },
      ]) {
        const attempt = factory({ metrics: { collector: new MetricsCollector(), ...metrics } });
        await expect(attempt).rejects.toThrow(TypeError);
        await expect(attempt).rejects.toThrow(new RegExp(`^${meta.packageName}: `));
      }
    });
  });
}
