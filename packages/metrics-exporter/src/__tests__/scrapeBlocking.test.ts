import { MetricsCollector } from '@gatewayz/metrics-core';
import { expect, it } from 'vitest';
import { PrometheusExporter } from '../index.js';

// Not a benchmark (docs/BENCHMARKS.md has the figures): a guard that the export `/metrics` serves never holds
// the event loop for the whole of a large scrape. Relative to the synchronous export of the same 10k series,
// measured in the same run, so a slow or busy machine does not make it fail.
it('a 10k-series async export keeps handing the event loop back', async () => {
  const c = new MetricsCollector({ limits: { endpoints: 10_010 } });
  for (let i = 0; i < 10_000; i++) {
    for (let k = 0; k < 5; k++) {
      c.recordRequest({
        endpoint: `/api/e${i}`,
        method: 'GET',
        latencySeconds: 0.01 + ((i * 31 + k * 17) % 1000) / 2000,
        statusCode: 200,
      });
    }
  }
  const e = new PrometheusExporter(c);
  e.export();
  const t0 = performance.now();
  const sync = e.export();
  const syncMs = performance.now() - t0;

  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const body = await e.exportAsyncBuffer('text');
  running = false;

  expect(body.length).toBeGreaterThan(0.9 * Buffer.byteLength(sync));
  expect(ticks).toBeGreaterThan(20);
  expect(maxGap).toBeLessThan(syncMs / 3);
  console.log(
    `10k series: sync export ${syncMs.toFixed(0)} ms; async export: ${ticks} yields, longest hold ${maxGap.toFixed(1)} ms`,
  );
});
