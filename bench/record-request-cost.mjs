// What the core costs per HTTP request, for docs/BENCHMARKS.md "HTTP results": one recordRequest() as the adapters
// call it (the default histogram and sketches, one series) and the in-flight gauge's start/end, in CPU µs per call.
// Run after a build: `node bench/record-request-cost.mjs`. Not a test; it asserts nothing.
import { MetricsCollector } from '@gatewayz/metrics-core';

const c = new MetricsCollector({ runtimeMetrics: false });
const N = 500_000;
const run = (label, fn) => {
  for (let i = 0; i < 50_000; i++) fn(i);
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn(i);
  const d = process.cpuUsage(t0);
  console.log(`${label}: ${((d.user + d.system) / N).toFixed(3)} µs`);
};
for (let k = 0; k < 2; k++) {
  run('recordRequest', (i) =>
    c.recordRequest({
      endpoint: '/hello',
      method: 'GET',
      latencySeconds: 0.0001 + (i & 7) * 1e-5,
      statusCode: 200,
      error: false,
      provider: undefined,
      model: undefined,
      exemplar: undefined,
    }),
  );
  run('startInFlight + endInFlight, then again after routing', () => {
    c.startInFlight('__unmatched__');
    c.endInFlight('__unmatched__');
    c.startInFlight('/hello');
    c.endInFlight('/hello');
  });
  run('performance.now() twice', () => performance.now() - performance.now());
}
