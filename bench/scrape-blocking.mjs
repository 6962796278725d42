// Event-loop blocking during a large scrape: 10k endpoint series, export() vs exportAsync() vs exportAsyncBuffer()
// (what the /metrics handlers send). Run: node bench/scrape-blocking.mjs [series] (after building the packages).
// The figures quoted in docs/BENCHMARKS.md come from bench/record-export.mjs, which also measures prom-client.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';

const N = Number(process.argv[2] ?? 10_000);
const c = new MetricsCollector({ limits: { endpoints: N + 10 } });
for (let i = 0; i < N; i++) {
  for (let k = 0; k < 20; k++) {
    c.recordRequest({
      endpoint: `/api/e${i}`,
      method: 'GET',
      latencySeconds: 0.01 + ((i * 31 + k * 17) % 1000) / 2000,
      statusCode: 200,
    });
  }
}
const e = new PrometheusExporter(c);
async function measure(label, fn) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // A ticking timer makes the histogram see each blocked stretch.
  const tick = setInterval(() => {}, 1);
  h.enable();
  // The histogram measures from its first timer tick on: give it one before the scrape starts.
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  // Let the timer fire once more, so a block at the very end is recorded too.
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  clearInterval(tick);
  console.log(
    `${label}: wall ${ms.toFixed(1)} ms, max event-loop delay ${(h.max / 1e6).toFixed(1)} ms, ${(out.length / 1e6).toFixed(1)} MB`,
  );
}
for (let r = 0; r < 3; r++) {
  await measure('export() sync     ', async () => e.export());
  await measure('exportAsync("text")', () => e.exportAsync('text'));
  await measure('exportAsyncBuffer  ', () => e.exportAsyncBuffer('text'));
}
