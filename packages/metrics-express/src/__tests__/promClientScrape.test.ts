import { createServer } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import {
  type ConformanceApp,
  listenNode,
  type PrometheusServer,
  startPrometheus,
  strictOpenMetrics,
} from '@gatewayz/test-utils';
import express from 'express';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressMetrics } from '../index.js';

// The documented prom-client interop, `append: () => registry.metrics()`, scraped by a real Prometheus 2.42:
// with its default Accept (OpenMetrics first), and with native histograms on (protobuf first).
const registry = new Registry();
collectDefaultMetrics({ register: registry });
new Counter({ name: 'legacy_jobs_total', help: 'Jobs "done".', labelNames: ['queue'], registers: [registry] }).inc(
  { queue: 'a\u2028b "c"' },
  3,
);
const accepts: string[] = [];
const contentTypes: string[] = [];
let app: ConformanceApp;
let prom: PrometheusServer;
let native: PrometheusServer;

const config = (job: string, port: string) =>
  `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: ${job}\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;

beforeAll(async () => {
  const server = express();
  server.use((req, res, next) => {
    if (req.path === '/metrics') {
      accepts.push(String(req.headers.accept));
      res.on('finish', () => contentTypes.push(String(res.getHeader('content-type'))));
    }
    next();
  });
  server.use(expressMetrics({ collector: new MetricsCollector(), append: () => registry.metrics() }));
  server.get('/x', (_req, res) => {
    res.send('x');
  });
  app = await listenNode(createServer(server));
  for (let i = 0; i < 3; i++) await fetch(`${app.url}/x`);
  const port = new URL(app.url).port;
  [prom, native] = await Promise.all([
    startPrometheus({ config: config('om', port) }),
    startPrometheus({ config: config('native', port), features: ['native-histograms'] }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([prom?.stop(), native?.stop()]);
  await app?.close();
});

async function expectBothSides(p: PrometheusServer, job: string) {
  const [target] = await p.waitForTargets(job, 30_000);
  expect(target!.lastError).toBe('');
  const up = await p.waitFor(`up{job="${job}"}`);
  expect(up[0]!.value![1]).toBe('1');
  expect(await p.waitFor(`process_cpu_user_seconds_total{job="${job}"}`)).toHaveLength(1);
  expect(Number((await p.waitFor(`nodejs_heap_size_used_bytes{job="${job}"}`))[0]!.value![1])).toBeGreaterThan(0);
  const jobs = await p.waitFor(`legacy_jobs_total{job="${job}"}`);
  expect(jobs[0]!.metric.queue).toBe('a\u2028b "c"');
  expect(jobs[0]!.value![1]).toBe('3');
  const ours = await p.waitFor(`http_requests_total{job="${job}",endpoint="/x"}`);
  expect(ours[0]!.value![1]).toBe('3');
  // No scrape of this job failed: Prometheus counts every sample it took, and up stayed 1.
  const minUp = await p.query(`min_over_time(up{job="${job}"}[1m])`);
  expect(minUp[0]!.value![1]).toBe('1');
}

describe('append: () => registry.metrics() under a real Prometheus 2.42', () => {
  it('default Accept (OpenMetrics): up is 1, and prom-client families and ours can be queried', async () => {
    await expectBothSides(prom, 'om');
    expect(accepts.some((a) => a.startsWith('application/openmetrics-text'))).toBe(true);
    expect(contentTypes.some((c) => c.startsWith('application/openmetrics-text'))).toBe(true);
  }, 60_000);

  it('--enable-feature=native-histograms (protobuf): up is 1, both sides, and our native histogram', async () => {
    await expectBothSides(native, 'native');
    expect(accepts.some((a) => a.startsWith('application/vnd.google.protobuf'))).toBe(true);
    expect(contentTypes.some((c) => c.startsWith('application/vnd.google.protobuf'))).toBe(true);
    const h = await native.waitFor('http_request_duration_seconds{job="native",endpoint="/x"}');
    expect(h[0]!.histogram![1].count).toBe('3');
  }, 60_000);

  it("the app's OpenMetrics response passes the strict OpenMetrics parser", async () => {
    const accept = accepts.find((a) => a.startsWith('application/openmetrics-text'))!;
    const body = await (await fetch(`${app.url}/metrics`, { headers: { accept } })).text();
    const families = new Map(strictOpenMetrics(body).map((f) => [f[0], f]));
    expect(families.get('process_cpu_user_seconds')![1]).toBe('counter');
    expect(families.get('nodejs_heap_size_used_bytes')![1]).toBe('gauge');
    expect(families.get('http_requests')![1]).toBe('counter');
    expect(families.get('legacy_jobs')![2][0]![1]).toEqual({ queue: 'a\u2028b "c"' });
  });
});
