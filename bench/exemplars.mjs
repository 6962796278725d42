// What exemplars cost on the record path. Run from the repo root: `node bench/exemplars.mjs`.
// 1. recordRequest without an exemplar, with one, and with a malformed one (dropped and counted).
// 2. The adapters' track() path: a real IncomingMessage-like request with and without a traceparent header,
//    and with exemplars off; plus the no-header path with a fake OpenTelemetry API registered (no active span).
// Bounded: a fixed count per round, 7 rounds, the median reported in ns per call.

const { MetricsCollector } = await import('@gatewayz/metrics-core');
const { resolveHttpMetricsOptions } = await import('@gatewayz/metrics-exporter');
const { EventEmitter } = await import('node:events');

const N = 500_000;
const ROUNDS = 7;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function bench(name, fn) {
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / N);
  }
  const ns = median(times);
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(7)} ns/call`);
  return ns;
}

const latencies = Array.from({ length: 1024 }, (_, i) => (i % 97) / 100);
const c1 = new MetricsCollector();
const c2 = new MetricsCollector();
const c3 = new MetricsCollector();
const ex = { traceId: TRACE, spanId: SPAN };
const bad = { traceId: 'not-a-trace' };
// Literal records of one shape, as the adapters build them (a spread would measure the spread).
const rec = (i, exemplar) => ({
  endpoint: '/v1/chat/completions',
  method: 'POST',
  latencySeconds: latencies[i & 1023],
  statusCode: 200,
  exemplar,
});
console.log(`node ${process.version}, ${N} calls x ${ROUNDS} rounds, median`);
const a = bench('recordRequest, no exemplar', (i) => c1.recordRequest(rec(i, undefined)));
const b = bench('recordRequest, valid exemplar {traceId, spanId}', (i) => c2.recordRequest(rec(i, ex)));
bench('recordRequest, malformed exemplar (dropped, counted)', (i) => c3.recordRequest(rec(i, bad)));
console.log(`  exemplar overhead on recordRequest: ${(b - a).toFixed(1)} ns/call`);

// track(): a fake request/response pair; 'finish' is emitted by hand, so this measures only the adapter path.
function trackBench(name, options, headers, before) {
  const collector = new MetricsCollector();
  const m = resolveHttpMetricsOptions({ collector, ...options });
  before?.();
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false });
  const req = { method: 'GET', url: '/v1/x', headers };
  const ns = bench(name, () => {
    res.removeAllListeners();
    delete res[Object.getOwnPropertySymbols(res).find((s) => String(s) === 'Symbol(gatewayz.tracking)')];
    m.track(req, res, '/v1/x', () => '/v1/x');
    res.emit('finish');
  });
  return ns;
}
const N0 = trackBench('track()+finish, no traceparent', {}, { host: 'x' });
const N1 = trackBench('track()+finish, traceparent', {}, { host: 'x', traceparent: `00-${TRACE}-${SPAN}-01` });
trackBench('track()+finish, exemplars: false', { exemplars: false }, { host: 'x' });
const key = Symbol.for('opentelemetry.js.api.1');
const N2 = trackBench('track()+finish, no traceparent, OTel API (no active span)', {}, { host: 'x' }, () => {
  globalThis[key] = { version: '1.9.0', context: { active: () => ({ getValue: () => undefined }) } };
});
delete globalThis[key];
console.log(
  `  traceparent overhead on track(): ${(N1 - N0).toFixed(1)} ns/request; OTel lookup: ${(N2 - N0).toFixed(1)} ns/request`,
);
