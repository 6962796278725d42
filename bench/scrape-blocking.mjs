// Event-loop blocking during a large scrape: 10k endpoint series, exportAsync vs export().
// Run: node bench/scrape-blocking.mjs (after building the packages).
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
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  h.disable();
  clearInterval(tick);
  console.log(
    `${label}: wall ${ms.toFixed(1)} ms, max event-loop delay ${(h.max / 1e6).toFixed(1)} ms, ${(out.length / 1e6).toFixed(1)} MB`,
  );
}
for (let r = 0; r < 3; r++) {
  await measure('export() sync     ', async () => e.export());
  await measure('exportAsync("text")', () => e.exportAsyncBuffer('text'));
}
