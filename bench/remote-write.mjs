// Remote-write cost for a large state: one snapshot of 20,000 requests over 1,000 endpoints (with methods,
// statuses, providers and models) read through the exporter's protobuf exposition, decoded, converted to a remote
// write 1.0 WriteRequest, protobuf-encoded and snappy-compressed. Run on purpose (it asserts nothing):
//   npx -y pnpm@12.4.2 --filter @gatewayz/metrics-remote-write build && node bench/remote-write.mjs
// It imports the built package by path (bench/ does not list it as a dependency) and stubs fetch with an
// immediate 204, so flush() measures our work only. See docs/BENCHMARKS.md.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', 'packages', 'metrics-remote-write');
const { MetricsCollector } = await import('@gatewayz/metrics-core');
const { PrometheusExporter } = await import('@gatewayz/metrics-exporter');
const { RemoteWriter } = await import(join(pkg, 'dist', 'index.js'));
const snappy = createRequire(join(pkg, 'package.json'))('snappyjs');

const ENDPOINTS = Number(process.argv[2] ?? 1000);
const ROUNDS = 15;
const c = new MetricsCollector({ limits: { endpoints: ENDPOINTS + 10 }, runtimeMetrics: false });
for (let i = 0; i < ENDPOINTS * 20; i++) {
  c.recordRequest({
    endpoint: `/v1/endpoint/${i % ENDPOINTS}`,
    method: i % 2 ? 'GET' : 'POST',
    latencySeconds: 0.001 + ((i * 7919) % 1000) / 250,
    statusCode: [200, 404, 500][i % 3],
    provider: `provider-${i % 4}`,
    model: `model-${i % 6}`,
  });
}

let lastBody;
globalThis.fetch = async (_url, init) => {
  lastBody = init.body;
  return new Response(null, { status: 204 });
};
const exporter = new PrometheusExporter(c);
const writer = new RemoteWriter({ url: 'http://127.0.0.1:1/api/v1/write', collector: c });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

// The longest the event loop is held during a flush (the exporter's sync protobuf render, then each of our steps).
const loop = monitorEventLoopDelay({ resolution: 1 });
const blockMs = [];
const gapMs = [];
for (let r = 0; r < 5; r++) {
  loop.reset();
  loop.enable();
  // A 1 ms ticker too: its longest gap is the longest hold, measured another way.
  let last = performance.now();
  let gap = 0;
  const tick = setInterval(() => {
    const t = performance.now();
    gap = Math.max(gap, t - last);
    last = t;
  }, 1);
  await new Promise((res) => setTimeout(res, 10));
  await writer.flush();
  await new Promise((res) => setTimeout(res, 20));
  clearInterval(tick);
  loop.disable();
  blockMs.push(loop.max / 1e6);
  gapMs.push(gap);
}
const exportMs = [];
const flushMs = [];
const snappyMs = [];
let raw;
for (let r = 0; r < ROUNDS; r++) {
  exportMs.push(await time(() => exporter.exportProtobuf()));
  flushMs.push(await time(() => writer.flush()));
  raw = snappy.uncompress(lastBody);
  snappyMs.push(await time(() => snappy.compress(raw)));
}
const s = writer.stats();
const samples = s.samplesSent / s.requestsSent;
const out = {
  endpoints: ENDPOINTS,
  samplesPerWriteRequest: samples,
  writeRequestBytes: raw.length,
  snappyBytes: lastBody.length,
  medianMs: {
    exportProtobuf: +median(exportMs).toFixed(1),
    decodeConvertEncode: +(median(flushMs) - median(exportMs) - median(snappyMs)).toFixed(1),
    snappyCompress: +median(snappyMs).toFixed(1),
    flushTotal: +median(flushMs).toFixed(1),
    maxEventLoopDelay: +median(blockMs).toFixed(1),
    maxTimerGap: +median(gapMs).toFixed(1),
  },
  node: process.version,
};
console.log(JSON.stringify(out, null, 2));
