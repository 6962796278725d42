import { createServer } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { type ConformanceApp, listenNode, type PrometheusServer, startPrometheus } from '@gatewayz/test-utils';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressMetrics } from '../index.js';

// The real thing: Prometheus 2.42 with exemplar storage scrapes an Express app over OpenMetrics (its default Accept),
// and the trace ids sent in `traceparent` come back from /api/v1/query_exemplars.
const TRACES = ['4bf92f3577b34da6a3ce929d0e0e4736', '0af7651916cd43dd8448eb211c80319c'];
const SPAN = '00f067aa0ba902b7';
let app: ConformanceApp;
let prom: PrometheusServer;
let native: PrometheusServer;
const contentTypes: string[] = [];

interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

beforeAll(async () => {
  const server = express();
  server.use((req, res, next) => {
    if (req.path === '/metrics') res.on('finish', () => contentTypes.push(String(res.getHeader('content-type'))));
    next();
  });
  server.use(expressMetrics({ collector: new MetricsCollector() }));
  server.get('/fast', (_req, res) => {
    res.send('fast');
  });
  server.get('/slow', (_req, res) => {
    setTimeout(() => res.send('slow'), 60);
  });
  app = await listenNode(createServer(server));
  const port = new URL(app.url).port;
  const config = `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: ex\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;
  [prom, native] = await Promise.all([
    startPrometheus({ config, features: ['exemplar-storage'] }),
    // With native histograms on, Prometheus asks for protobuf: the exemplars go in its Bucket and Counter messages.
    startPrometheus({ config, features: ['exemplar-storage', 'native-histograms'] }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([prom?.stop(), native?.stop()]);
  await app?.close();
});

async function queryExemplars(
  query: string,
  startSec: number,
  endSec: number,
  server: PrometheusServer = prom,
): Promise<ExemplarSeries[]> {
  const q = new URLSearchParams({ query, start: String(startSec), end: String(endSec) });
  const body = (await (await fetch(`${server.url}/api/v1/query_exemplars?${q}`)).json()) as {
    status: string;
    data: ExemplarSeries[];
  };
  expect(body.status).toBe('success');
  return body.data;
}

describe('exemplars under a real Prometheus 2.42 (--enable-feature=exemplar-storage)', () => {
  it('returns the trace id sent in traceparent from /api/v1/query_exemplars, for buckets and the counter', async () => {
    const start = Date.now() / 1000 - 5;
    await prom.waitForTargets('ex', 30_000);
    expect((await fetch(`${app.url}/fast`, { headers: { traceparent: `00-${TRACES[0]}-${SPAN}-01` } })).status).toBe(
      200,
    );
    expect((await fetch(`${app.url}/slow`, { headers: { traceparent: `00-${TRACES[1]}-${SPAN}-01` } })).status).toBe(
      200,
    );
    // A forged header: ignored, never stored.
    await fetch(`${app.url}/fast`, { headers: { traceparent: `00-${'1'.repeat(31)}"-${SPAN}-01` } });

    const found = new Map<string, ExemplarSeries[]>();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const end = Date.now() / 1000 + 5;
      const buckets = await queryExemplars('http_request_duration_seconds_bucket{job="ex"}', start, end);
      const counter = await queryExemplars('http_requests_total{job="ex"}', start, end);
      found.set('buckets', buckets);
      found.set('counter', counter);
      const traces = new Set(buckets.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id)));
      if (TRACES.every((t) => traces.has(t)) && counter.length >= 2) break;
      if (Date.now() > deadline) throw new Error(`exemplars not found: ${JSON.stringify([...found])}\n${prom.log()}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    const buckets = found.get('buckets')!;
    const slow = buckets.find((s) => s.exemplars.some((e) => e.labels.trace_id === TRACES[1]))!;
    expect(slow.seriesLabels).toMatchObject({ __name__: 'http_request_duration_seconds_bucket', endpoint: '/slow' });
    const ex = slow.exemplars.find((e) => e.labels.trace_id === TRACES[1])!;
    expect(ex.labels).toEqual({ trace_id: TRACES[1], span_id: SPAN });
    expect(Number(ex.value)).toBeGreaterThanOrEqual(0.05);
    expect(Number(slow.seriesLabels.le)).toBeGreaterThanOrEqual(Number(ex.value));
    expect(ex.timestamp).toBeGreaterThan(start);

    const counter = found.get('counter')!;
    const fastCounter = counter.find((s) => s.seriesLabels.endpoint === '/fast')!;
    expect(fastCounter.exemplars.map((e) => e.labels.trace_id)).toContain(TRACES[0]);

    const all = JSON.stringify([...found]);
    expect(all).not.toContain('1111111111');
    expect(contentTypes.some((c) => c.startsWith('application/openmetrics-text'))).toBe(true);
    // Every scrape succeeded.
    expect((await prom.query('min_over_time(up{job="ex"}[1m])'))[0]!.value![1]).toBe('1');
  }, 60_000);

  it('over protobuf too (native histograms on): on the native histogram series and on the counter', async () => {
    // The requests of the test above: the app keeps the last exemplar of each bucket and exposes it on every scrape.
    const start = Date.now() / 1000 - 120;
    await native.waitForTargets('ex', 30_000);
    let hist: ExemplarSeries[] = [];
    let counter: ExemplarSeries[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const end = Date.now() / 1000 + 5;
      hist = await queryExemplars('http_request_duration_seconds{job="ex"}', start, end, native);
      counter = await queryExemplars('http_requests_total{job="ex"}', start, end, native);
      const traces = new Set(hist.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id)));
      if (TRACES.every((t) => traces.has(t)) && counter.length >= 2) break;
      if (Date.now() > deadline)
        throw new Error(`exemplars not found: ${JSON.stringify([hist, counter])}\n${native.log()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const slow = hist.find((s) => s.seriesLabels.endpoint === '/slow')!;
    const ex = slow.exemplars.find((e) => e.labels.trace_id === TRACES[1])!;
    expect(ex.labels).toEqual({ trace_id: TRACES[1], span_id: SPAN });
    expect(Number(ex.value)).toBeGreaterThanOrEqual(0.05);
    const fast = counter.find((s) => s.seriesLabels.endpoint === '/fast')!;
    expect(fast.exemplars.map((e) => [e.labels.trace_id, e.value])).toContainEqual([TRACES[0], '1']);
    expect(JSON.stringify([hist, counter])).not.toContain('1111111111');
    expect(contentTypes.some((c) => c.startsWith('application/vnd.google.protobuf'))).toBe(true);
    expect((await native.query('min_over_time(up{job="ex"}[1m])'))[0]!.value![1]).toBe('1');
  }, 60_000);
});
