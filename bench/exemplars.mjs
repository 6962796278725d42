// What exemplars cost on the record path. Run from the repo root: `node bench/exemplars.mjs` (after building the
// packages). Each group's cases run in interleaved rounds (so machine noise hits them alike); the median is reported.
// 1. recordRequest without an exemplar, with one, and with a malformed one (dropped and counted).
// 2. The adapters' track() path on a fake request/response ('finish' emitted by hand: only the adapter's own work):
//    without and with a traceparent header, with exemplars off, and without a header but with an OpenTelemetry API
//    registered (no active span).
// Bounded: N calls per round, ROUNDS rounds per case.

const { MetricsCollector } = await import('@gatewayz/metrics-core');
const { resolveHttpMetricsOptions } = await import('@gatewayz/metrics-exporter/node');
const { EventEmitter } = await import('node:events');

const N = 300_000;
const ROUNDS = 9;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the cases in interleaved rounds; returns the median ns per call of each. */
function benchAll(cases) {
  const times = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, [, fn, setup]] of cases.entries()) {
      setup?.();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) fn(i);
      times[k].push(Number(process.hrtime.bigint() - t0) / N);
    }
  }
  return cases.map(([name], k) => {
    const ns = median(times[k]);
    console.log(`${name.padEnd(60)} ${ns.toFixed(1).padStart(7)} ns/call`);
    return ns;
  });
}

console.log(`node ${process.version}, ${N} calls x ${ROUNDS} interleaved rounds, median`);

const latencies = Array.from({ length: 1024 }, (_, i) => (i % 97) / 100);
const [c1, c2, c3] = [new MetricsCollector(), new MetricsCollector(), new MetricsCollector()];
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
const [a, b] = benchAll([
  ['recordRequest, no exemplar', (i) => c1.recordRequest(rec(i, undefined))],
  ['recordRequest, valid exemplar {traceId, spanId}', (i) => c2.recordRequest(rec(i, ex))],
  ['recordRequest, malformed exemplar (dropped, counted)', (i) => c3.recordRequest(rec(i, bad))],
]);
console.log(`  exemplar overhead on recordRequest: ${(b - a).toFixed(1)} ns/call`);

const OTEL = Symbol.for('opentelemetry.js.api.1');
const fakeOtel = { version: '1.9.0', context: { active: () => ({ getValue: () => undefined }) } };
const TRACKING = (res) => Object.getOwnPropertySymbols(res).find((s) => String(s) === 'Symbol(gatewayz.tracking)');
function trackCase(name, options, headers, otel) {
  const m = resolveHttpMetricsOptions({ collector: new MetricsCollector(), ...options });
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false });
  const req = { method: 'GET', url: '/v1/x', headers };
  const fn = () => {
    res.removeAllListeners();
    const key = TRACKING(res);
    if (key) delete res[key];
    m.track(req, res, '/v1/x', () => '/v1/x');
    res.emit('finish');
  };
  const setup = () => {
    if (otel) globalThis[OTEL] = fakeOtel;
    else delete globalThis[OTEL];
  };
  return [name, fn, setup];
}
const [t0, t1, , t3] = benchAll([
  trackCase('track()+finish, no traceparent', {}, { host: 'x' }, false),
  trackCase('track()+finish, traceparent', {}, { host: 'x', traceparent: `00-${TRACE}-${SPAN}-01` }, false),
  trackCase('track()+finish, exemplars: false', { exemplars: false }, { host: 'x' }, false),
  trackCase('track()+finish, no traceparent, OTel API (no active span)', {}, { host: 'x' }, true),
]);
delete globalThis[OTEL];
console.log(
  `  traceparent overhead on track(): ${(t1 - t0).toFixed(1)} ns/request; OTel lookup: ${(t3 - t0).toFixed(1)} ns/request`,
);
