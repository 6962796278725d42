import { Worker } from 'node:worker_threads';
import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { createMetricsHandlers, PrometheusExporter } from '@gatewayz/metrics-exporter';
import { afterAll, expect, it } from 'vitest';
import { ClusterAggregator } from '../index.js';
import { census } from './census.js';

const url = new URL('./fixtures/thread-worker.mjs', import.meta.url);
const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

it('the main thread answers for worker_threads, merging sketches exactly', async () => {
  const parts = [0, 1, 2].map((k) =>
    Array.from({ length: 5000 }, (_, i) => 0.001 * (1 + ((i * 7919 + k * 104729) % 3000))),
  );
  const local = new MetricsCollector();
  const aggregator = new ClusterAggregator({ local, timeoutMs: 2000 });
  local.recordRequest({
    endpoint: '/api/chat',
    method: 'POST',
    latencySeconds: 0.5,
    statusCode: 500,
    provider: 'openai',
  });
  for (const latencies of parts) {
    const w = new Worker(url, { workerData: { latencies } });
    workers.push(w);
    await new Promise<void>((resolve) => w.once('message', () => resolve()));
    aggregator.addWorker(w);
  }
  const merged = seedView(await aggregator.state());
  const single = new MetricsCollector();
  single.recordRequest({
    endpoint: '/api/chat',
    method: 'POST',
    latencySeconds: 0.5,
    statusCode: 500,
    provider: 'openai',
  });
  for (const v of parts.flat())
    single.recordRequest({
      endpoint: '/api/chat',
      method: 'POST',
      latencySeconds: v,
      statusCode: 200,
      provider: 'openai',
    });
  const s = seedView(single.state());
  expect(merged.totals.requests).toBe(15001);
  expect(merged.totals.errors).toBe(1);
  const [m] = merged.endpoints;
  const [e] = s.endpoints;
  for (const q of [0.5, 0.95, 0.99]) expect(m!.window.sketch!.quantile(q)).toBe(e!.window.sketch!.quantile(q));
  expect(m!.methods[0]!.buckets).toEqual(e!.methods[0]!.buckets);
  expect(census(merged)).toEqual({ workers: 3, answered: 3, skippedTotal: 0 });
  // Uptime is this process's (the local collector's start), not a worker's.
  expect(merged.startMs).toBe(seedView(local.state()).startMs);

  await aggregator.reset();
  const after = seedView(await aggregator.state());
  expect(after.totals.requests).toBe(0);
});

it('keeps each worker under a worker label when asked, with every series unique', async () => {
  const local = new MetricsCollector();
  local.recordRequest({ endpoint: '/api/chat', method: 'POST', latencySeconds: 0.2, statusCode: 200 });
  const w = new Worker(url, { workerData: { latencies: [0.1, 0.2, 0.3] } });
  workers.push(w);
  await new Promise<void>((resolve) => w.once('message', () => resolve()));
  const aggregator = new ClusterAggregator({ local, perWorker: true });
  aggregator.addWorker(w);
  const text = await new PrometheusExporter(aggregator).exportAsync('text');
  expect(text).toContain('http_requests_total{worker="local",endpoint="/api/chat",method="POST"} 1\n');
  expect(text).toMatch(/http_requests_total\{worker="thread:\d+",endpoint="\/api\/chat",method="POST"\} 3\n/);
  expect(text).toContain('gatewayz_cluster_workers{state="answered"} 1\n');
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const keys = samples.map((l) => l.slice(0, l.lastIndexOf(' ')));
  expect(new Set(keys).size).toBe(keys.length);
  // The JSON view stays merged.
  const merged = seedView(await aggregator.state());
  expect(merged.totals.requests).toBe(4);
});

it('reset resets every worker and reports who answered; a scrape in flight across it is not carried forward', async () => {
  const start = async (latencies: number[]) => {
    const w = new Worker(url, { workerData: { latencies } });
    workers.push(w);
    await new Promise<void>((resolve) => w.once('message', () => resolve()));
    return w;
  };
  const [a, b] = [await start(Array(50).fill(0.1)), await start(Array(50).fill(0.2))];
  const aggregator = new ClusterAggregator({ timeoutMs: 300 });
  aggregator.addWorker(a!);
  aggregator.addWorker(b!);
  expect(seedView(await aggregator.state()).totals.requests).toBe(100);

  // A scrape is in flight when the reset starts: its answers predate the reset.
  const inFlight = aggregator.state();
  expect(await aggregator.reset()).toEqual({ workers: { asked: 2, answered: 2 } });
  expect(seedView(await inFlight).totals.requests).toBe(100);
  // Worker a stops answering: it is skipped, and nothing it said before the reset comes back.
  a!.postMessage('hang');
  const after = seedView(await aggregator.state());
  expect(after.totals.requests).toBe(0);
  expect(census(after)).toEqual({ workers: 2, answered: 1, skippedTotal: 1 });

  // New traffic counts from 0, and the totals never go back up to the old figures.
  b!.postMessage({ record: 7 });
  await new Promise<void>((resolve) => b!.once('message', () => resolve()));
  expect(seedView(await aggregator.state()).totals.requests).toBe(7);
  expect(seedView(await aggregator.state()).totals.requests).toBe(7);

  // Through the exporter's handler: the answer says a worker did not confirm.
  const token = 'threads-admin-token-0123456789';
  const handlers = createMetricsHandlers({ collector: aggregator, adminToken: token });
  const res = await handlers.reset({ method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(JSON.parse(String(res.body))).toEqual({
    status: 'ok',
    message: 'metrics reset',
    workers: { asked: 2, answered: 1 },
  });
  const afterSecond = seedView(await aggregator.state());
  expect(afterSecond.totals.requests).toBe(0);
  expect(census(afterSecond)).toEqual({ workers: 2, answered: 1, skippedTotal: 1 });
});

it('sums requests in flight across workers; a worker that does not answer counts nothing in flight', async () => {
  const start = async () => {
    const w = new Worker(url, { workerData: { latencies: [] } });
    workers.push(w);
    await new Promise<void>((resolve) => w.once('message', () => resolve()));
    return w;
  };
  const tell = async (w: Worker, m: unknown) => {
    const said = new Promise<void>((resolve) => w.once('message', () => resolve()));
    w.postMessage(m);
    await said;
  };
  const [a, b] = [await start(), await start()];
  const local = new MetricsCollector();
  local.startInFlight('/api/chat');
  const aggregator = new ClusterAggregator({ local, timeoutMs: 300 });
  aggregator.addWorker(a!);
  aggregator.addWorker(b!);
  await tell(a!, { inFlight: 3 });
  await tell(b!, { inFlight: 2 });
  const inFlight = async () => {
    const text = await new PrometheusExporter(aggregator).exportAsync('text');
    return Number(/^http_requests_in_flight\{endpoint="\/api\/chat"\} (\S+)$/m.exec(text)?.[1]);
  };
  expect(await inFlight()).toBe(6);
  expect(seedView(await aggregator.state()).inFlight).toEqual([{ endpoint: '/api/chat', requests: 6 }]);
  await tell(b!, { inFlight: -2 });
  expect(await inFlight()).toBe(4);
  // a is skipped: its last counters are carried, its requests in flight are not
  a!.postMessage('hang');
  expect(await inFlight()).toBe(1);
  local.endInFlight('/api/chat');
  expect(await inFlight()).toBe(0);
});
