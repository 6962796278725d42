import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsCollector, seedView, sketchRelativeAccuracy } from '@gatewayz/metrics-core';
import { createMetricsHandlers } from '@gatewayz/metrics-exporter';
import { type PrometheusServer, startPrometheus } from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real Prometheus 2.42 with --enable-feature=native-histograms scrapes our protobuf exposition.
let server: Server;
let prom: PrometheusServer;
const collector = new MetricsCollector();
const latencies: number[] = [];
const accepts: string[] = [];
const encodings: string[] = [];
let gzipRenders = 0;

beforeAll(async () => {
  // Lognormal latencies around 120 ms, deterministic.
  let s = 42;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s + 0.5) / 2147483648;
  };
  for (let i = 0; i < 20000; i++) {
    const z = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    const v = Math.exp(Math.log(0.12) + 0.6 * z);
    latencies.push(v);
    collector.recordRequest({ endpoint: '/api/chat', method: 'POST', latencySeconds: v, statusCode: 200 });
  }
  latencies.sort((a, b) => a - b);
  const handlers = createMetricsHandlers({ collector, adminToken: null });
  // Prometheus asks for gzip: its protobuf scrapes take the path that compresses as it renders.
  const exportProtobufGzip = handlers.exporter.exportProtobufGzip.bind(handlers.exporter);
  handlers.exporter.exportProtobufGzip = () => {
    gzipRenders++;
    return exportProtobufGzip();
  };
  server = createServer(async (req, res) => {
    accepts.push(String(req.headers.accept));
    const out = await handlers.handle({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    encodings.push(String(out?.headers['content-encoding']));
    res.writeHead(out?.status ?? 404, out?.headers ?? {}).end(out?.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  prom = await startPrometheus({
    features: ['native-histograms'],
    config: `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: native\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
  });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await new Promise((r) => server?.close(r));
});

describe('native histograms through the protobuf exposition', () => {
  it('Prometheus negotiates protobuf and ingests everything', async () => {
    await prom.waitForTargets('native');
    expect(accepts.some((a) => a.includes('application/vnd.google.protobuf'))).toBe(true);
    const requests = await prom.waitFor('http_requests_total{job="native"}');
    expect(requests[0]!.value![1]).toBe('20000');
    const p99gauge = await prom.waitFor('http_request_latency_p99_seconds{job="native"}');
    expect(Number(p99gauge[0]!.value![1])).toBeGreaterThan(0);
    // ingested from gzip bodies compressed as they were rendered
    expect(gzipRenders).toBeGreaterThan(0);
    expect(encodings).toContain('gzip');
  });

  it('histogram_quantile over the native histogram matches the exact quantile within one bucket', async () => {
    const series = await prom.waitFor('http_request_duration_seconds{job="native"}');
    expect(series[0]!.histogram).toBeDefined();
    expect(series[0]!.histogram![1].count).toBe('20000');
    const width = 2 ** (2 ** -collector.options.sketchScale) - 1; // one native bucket, relative
    const rows: string[] = [];
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const [r] = await prom.query(`histogram_quantile(${q}, http_request_duration_seconds{job="native"})`);
      const got = Number(r!.value![1]);
      const exact = latencies[Math.floor(q * (latencies.length - 1))]!;
      const sketch = seedView(collector.state()).endpoints[0]!.methods[0]!.native!.quantile(q);
      // The sketch itself is within α of the exact value; Prometheus interpolates inside the same bucket.
      expect(Math.abs(sketch - exact) / exact).toBeLessThanOrEqual(sketchRelativeAccuracy(6) * (1 + 1e-9));
      rows.push(
        `q=${q} prometheus=${got.toFixed(6)} sketch=${sketch.toFixed(6)} exact=${exact.toFixed(6)} err=${((100 * Math.abs(got - exact)) / exact).toFixed(3)}%`,
      );
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(width + 1e-3);
      expect(Math.abs(got - sketch) / sketch).toBeLessThanOrEqual(width + 1e-3);
    }
    console.log(`native histogram_quantile vs exact:\n${rows.join('\n')}`);
  });

  it('classic text scrapes are unchanged', async () => {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('http_request_duration_seconds_bucket{endpoint="/api/chat",method="POST",le="+Inf"} 20000');
  });
});
