import { Worker } from 'node:worker_threads';
import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import { afterAll, expect, it } from 'vitest';
import { ClusterAggregator } from '../index.js';

const url = new URL('./fixtures/exemplar-worker.mjs', import.meta.url);
const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

const A = 'a'.repeat(31) + '1';
const B = 'b'.repeat(31) + '2';
const C = 'c'.repeat(31) + '3';

it('exemplars cross the worker IPC (JSON) and merge by latest per bucket', async () => {
  const aggregator = new ClusterAggregator({ local: new MetricsCollector(), timeoutMs: 2000 });
  // Worker 1 first: 0.2 s (bucket le=0.25) with trace A, 2 s (le=2.5) with trace C; then worker 2: 0.2 s with trace B.
  for (const records of [
    [
      { latencySeconds: 0.2, traceId: A },
      { latencySeconds: 2, traceId: C },
    ],
    [{ latencySeconds: 0.2, traceId: B }],
  ]) {
    await new Promise((r) => setTimeout(r, 20)); // a later timestamp for the later worker
    const w = new Worker(url, { workerData: { records } });
    workers.push(w);
    await new Promise<void>((resolve) => w.once('message', () => resolve()));
    aggregator.addWorker(w);
  }
  const merged = seedView(await aggregator.state());
  const m = merged.endpoints.find((e) => e.endpoint === '/api/chat')!.methods[0]!;
  expect(m.buckets.reduce((a, b) => a + b, 0)).toBe(3);
  const om = await new PrometheusExporter(aggregator).exportAsync('openmetrics');
  const bucket = (le: string) =>
    om
      .split('\n')
      .find((l) => l.startsWith(`http_request_duration_seconds_bucket{endpoint="/api/chat",method="POST",le="${le}"}`));
  expect(bucket('0.25')).toMatch(
    new RegExp(`^\\S+ 2 # \\{trace_id="${B}",span_id="00f067aa0ba902b7"\\} 0\\.2 \\d+\\.\\d{3}$`),
  );
  expect(bucket('2.5')).toContain(`trace_id="${C}"`);
  expect(bucket('0.1')).not.toContain('#');
  expect(om).not.toContain(`trace_id="${A}"`); // replaced by the later B in its bucket and on the counter
  expect(om).toMatch(
    new RegExp(`^http_requests_total\\{endpoint="/api/chat",method="POST"\\} 3 # \\{trace_id="${B}"`, 'm'),
  );
});
