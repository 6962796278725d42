// In-process benchmark: @gatewayz/metrics-core + -exporter against prom-client (and OpenTelemetry
// sdk-metrics where it applies), side by side in one run. Run from the repo root with
// `npx -y pnpm@12.4.2 bench`; see docs/BENCHMARKS.md for the method and the latest figures.
//
// Options: --quick (fewer rounds, for profiling), --no-write (do not write bench/results/latest.json),
// --only <sections> (comma-separated: record, scale, classic, memory100k; default all of them: "record" is record
// at 1 and 1,000 series, "scale" is 50/500/5,000 endpoints with 300 latencies each, "classic" is memory, export and
// scrape blocking at 1k and 10k series, "memory100k" is memory at 100k series). A partial run writes
// bench/results/partial-latest.json instead of latest.json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// Memory figures need global.gc(): re-run ourselves with --expose-gc when it is missing.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}

const { MetricsCollector, DEFAULT_BUCKETS } = await import('@gatewayz/metrics-core');
const { PrometheusExporter } = await import('@gatewayz/metrics-exporter');
const prom = (await import('prom-client')).default;
const otelSdk = await import('@opentelemetry/sdk-metrics');

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const ROUNDS = QUICK ? 3 : 7;
const gc = globalThis.gc;

// ---------------------------------------------------------------------------------------------
// Inputs. A deterministic PRNG so every run sees the same traffic.

let seed = 0x9e3779b9;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
/** Lognormal latency in seconds, median about 80 ms. */
const latency = () => {
  const u = 1 - rand();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  return Math.exp(Math.log(0.08) + 0.9 * z);
};
const status = () => {
  const r = rand();
  return r < 0.9 ? 200 : r < 0.95 ? 404 : r < 0.99 ? 500 : 503;
};

const INPUT_LEN = 8192;
/** Empty column arrays of INPUT_LEN records (method POST), over `series` distinct series. */
const inputColumns = (series) => ({
  endpoint: new Array(INPUT_LEN),
  method: new Array(INPUT_LEN).fill('POST'),
  provider: new Array(INPUT_LEN),
  model: new Array(INPUT_LEN),
  latency: new Float64Array(INPUT_LEN),
  status: new Int32Array(INPUT_LEN),
  series,
});

/** Column arrays of INPUT_LEN records spread over the given endpoint × provider × model combos. */
function makeInputs(endpoints, providers, models) {
  const combos = endpoints * providers * models;
  const cols = inputColumns(combos);
  for (let i = 0; i < INPUT_LEN; i++) {
    const k = Math.floor(rand() * combos);
    cols.endpoint[i] = `/v1/endpoint/${k % endpoints}`;
    cols.provider[i] = `provider-${Math.floor(k / endpoints) % providers}`;
    cols.model[i] = `model-${Math.floor(k / (endpoints * providers)) % models}`;
    cols.latency[i] = latency();
    cols.status[i] = status();
  }
  return cols;
}

// ---------------------------------------------------------------------------------------------
// The three implementations of "record one finished request with provider and model".

function makeOurs(endpointCap = 200, now = undefined) {
  // 100,000 is the largest cap the collector takes; at 100k series it holds every one of them. No runtime families:
  // the prom-client peer runs no collectDefaultMetrics() either.
  const c = new MetricsCollector({
    limits: { endpoints: Math.min(endpointCap, 100_000) },
    runtimeMetrics: false,
    ...(now ? { now } : {}),
  });
  return { collector: c, exporter: new PrometheusExporter(c) };
}

function runOurs(o, cols, iters) {
  const c = o.collector;
  for (let j = 0; j < iters; j++) {
    const i = j & (INPUT_LEN - 1);
    c.recordRequest({
      endpoint: cols.endpoint[i],
      method: cols.method[i],
      latencySeconds: cols.latency[i],
      statusCode: cols.status[i],
      provider: cols.provider[i],
      model: cols.model[i],
    });
  }
}

const windowed = { maxAgeSeconds: 300, ageBuckets: 5 };

/**
 * prom-client doing our job, as a prom-client user would write it. "lean" is the one the ratios use:
 * it omits what prom-client cannot do cheaply (windowed min/max/avg per provider and model), which
 * favours prom-client. "full" adds windowed Summaries for provider and model latency.
 */
function makeProm(full) {
  const registers = [new prom.Registry()];
  const o = { register: registers[0], full };
  const opts = (name, help, labelNames, extra) => ({ name, help, labelNames, registers, ...extra });
  o.requests = new prom.Counter(opts('http_requests_total', 'HTTP requests handled.', ['endpoint', 'method']));
  o.errors = new prom.Counter(opts('http_request_errors_total', 'HTTP requests that failed.', ['endpoint', 'method']));
  o.statuses = new prom.Counter(
    opts('http_response_status_total', 'HTTP responses by status.', ['endpoint', 'status']),
  );
  o.summary = new prom.Summary(
    opts('http_request_latency_seconds', 'Request latency over a 5 min window.', ['endpoint'], {
      percentiles: [0.5, 0.95, 0.99],
      ...windowed,
    }),
  );
  o.histogram = new prom.Histogram(
    opts('http_request_duration_seconds', 'Request duration.', ['endpoint', 'method'], {
      buckets: [...DEFAULT_BUCKETS],
    }),
  );
  o.providerRequests = new prom.Counter(opts('provider_requests_total', 'Requests per provider.', ['provider']));
  o.providerErrors = new prom.Counter(opts('provider_errors_total', 'Failed requests per provider.', ['provider']));
  o.modelRequests = new prom.Counter(opts('model_requests_total', 'Requests per model.', ['model']));
  o.modelErrors = new prom.Counter(opts('model_errors_total', 'Failed requests per model.', ['model']));
  if (full) {
    o.providerLatency = new prom.Summary(
      opts('provider_latency_seconds', 'Provider latency (min/max over 5 min).', ['provider'], {
        percentiles: [0, 1],
        ...windowed,
      }),
    );
    o.modelLatency = new prom.Summary(
      opts('model_latency_seconds', 'Model latency over 5 min.', ['model'], { percentiles: [], ...windowed }),
    );
  } else {
    o.providerLatency = new prom.Counter(
      opts('provider_latency_seconds_total', 'Summed provider latency.', ['provider']),
    );
    o.modelLatency = new prom.Counter(opts('model_latency_seconds_total', 'Summed model latency.', ['model']));
  }
  return o;
}

function recordProm(o, endpoint, method, lat, code, provider, model) {
  const error = code >= 500;
  o.requests.inc({ endpoint, method });
  if (error) o.errors.inc({ endpoint, method });
  o.statuses.inc({ endpoint, status: code });
  o.summary.observe({ endpoint }, lat);
  o.histogram.observe({ endpoint, method }, lat);
  o.providerRequests.inc({ provider });
  if (error) o.providerErrors.inc({ provider });
  o.modelRequests.inc({ model });
  if (error) o.modelErrors.inc({ model });
  if (o.full) {
    o.providerLatency.observe({ provider }, lat);
    o.modelLatency.observe({ model }, lat);
  } else {
    o.providerLatency.inc({ provider }, lat);
    o.modelLatency.inc({ model }, lat);
  }
}

function runProm(o, cols, iters) {
  for (let j = 0; j < iters; j++) {
    const i = j & (INPUT_LEN - 1);
    recordProm(o, cols.endpoint[i], cols.method[i], cols.latency[i], cols.status[i], cols.provider[i], cols.model[i]);
  }
}

/** A reader that only lets the SDK aggregate; nothing is exported during the record benchmark. */
class PullReader extends otelSdk.MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}

/** OpenTelemetry sdk-metrics: counters, an explicit-bucket histogram with our buckets, and an exponential histogram (the OTel answer to percentiles). */
function makeOtel() {
  const provider = new otelSdk.MeterProvider({
    readers: [new PullReader()],
    views: [
      {
        instrumentName: 'http.request.latency',
        aggregation: { type: otelSdk.AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
      },
    ],
  });
  const m = provider.getMeter('bench');
  return {
    provider,
    requests: m.createCounter('http.requests'),
    errors: m.createCounter('http.request.errors'),
    statuses: m.createCounter('http.response.status'),
    duration: m.createHistogram('http.request.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [...DEFAULT_BUCKETS] },
    }),
    latency: m.createHistogram('http.request.latency', { unit: 's' }),
    providerRequests: m.createCounter('provider.requests'),
    providerErrors: m.createCounter('provider.errors'),
    providerLatency: m.createCounter('provider.latency'),
    modelRequests: m.createCounter('model.requests'),
    modelErrors: m.createCounter('model.errors'),
    modelLatency: m.createCounter('model.latency'),
  };
}

function runOtel(o, cols, iters) {
  for (let j = 0; j < iters; j++) {
    const i = j & (INPUT_LEN - 1);
    const endpoint = cols.endpoint[i];
    const method = cols.method[i];
    const lat = cols.latency[i];
    const code = cols.status[i];
    const provider = cols.provider[i];
    const model = cols.model[i];
    const error = code >= 500;
    o.requests.add(1, { endpoint, method });
    if (error) o.errors.add(1, { endpoint, method });
    o.statuses.add(1, { endpoint, status: code });
    o.duration.record(lat, { endpoint, method });
    o.latency.record(lat, { endpoint });
    o.providerRequests.add(1, { provider });
    if (error) o.providerErrors.add(1, { provider });
    o.providerLatency.add(lat, { provider });
    o.modelRequests.add(1, { model });
    if (error) o.modelErrors.add(1, { model });
    o.modelLatency.add(lat, { model });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();
const elapsedNs = (t0) => Number(process.hrtime.bigint() - t0);
/**
 * Live memory after two full GCs: `js` is V8's heap alone (the figure earlier runs reported); `all` adds the
 * ArrayBuffer backing stores, which V8 keeps off its heap (a typed array over 64 bytes: our sketch counts and bucket
 * arrays). prom-client keeps its numbers in plain arrays, on the heap, so only `all` compares like with like.
 */
const heap = () => {
  gc();
  gc();
  const u = process.memoryUsage();
  return { js: u.heapUsed, all: u.heapUsed + u.arrayBuffers };
};
const perSeries = (before, after, n) => ({ js: (after.js - before.js) / n, all: (after.all - before.all) / n });
/** Rotates the order each round so no implementation always runs first (or last). */
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);
const log = (...a) => console.error(...a);

/** ns per record: warm up, size a batch to about `targetMs`, then ROUNDS interleaved rounds. */
async function benchRecord(label, cols, impls, targetMs = 150) {
  const state = impls.map((impl) => ({ ...impl, obj: impl.make(), samples: [] }));
  for (const s of state) {
    s.run(s.obj, cols, 20_000); // warm-up: JIT and every series created
    const t0 = nowNs();
    s.run(s.obj, cols, 5_000);
    const ns = elapsedNs(t0) / 5_000;
    s.iters = Math.max(5_000, Math.min(2_000_000, Math.round((targetMs * 1e6) / ns)));
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of rotate(state, r)) {
      const t0 = nowNs();
      s.run(s.obj, cols, s.iters);
      s.samples.push(elapsedNs(t0) / s.iters);
      await sleep(1);
    }
  }
  const out = {};
  for (const s of state) {
    out[s.name] = { median: median(s.samples), samples: s.samples, iters: s.iters };
    log(`  record ${label} ${s.name}: ${median(s.samples).toFixed(0)} ns/op`);
  }
  return out;
}

/**
 * Populates `n` latency series (endpoints), `obsPer` observations each, providers and models cycling.
 * With `spread`, a fake clock moves through the 5 sub-windows so every slot of every window holds data
 * (for prom-client, `Date.now` is replaced while populating so its Summaries rotate the same way).
 */
function populate(kind, n, obsPer, spread = false) {
  let fakeNow = Date.now();
  const start = fakeNow;
  const realDateNow = Date.now;
  const ours = kind === 'ours';
  const obj = ours ? makeOurs(n + 10, spread ? () => fakeNow : undefined) : makeProm(false);
  if (spread && !ours) Date.now = () => fakeNow;
  try {
    for (let k = 0; k < obsPer; k++) {
      if (spread) fakeNow = start + Math.floor((k * 5) / obsPer) * 61_000;
      for (let e = 0; e < n; e++) {
        const endpoint = ENDPOINT_NAMES[e];
        const provider = PROVIDER_NAMES[e % PROVIDER_NAMES.length];
        const model = MODEL_NAMES[e % MODEL_NAMES.length];
        const lat = LAT[(e * 31 + k * 7) % LAT.length];
        const code = CODES[(e + k * 13) % CODES.length];
        if (ours) {
          obj.collector.recordRequest({
            endpoint,
            method: 'POST',
            latencySeconds: lat,
            statusCode: code,
            provider,
            model,
          });
        } else {
          recordProm(obj, endpoint, 'POST', lat, code, provider, model);
        }
      }
    }
  } finally {
    Date.now = realDateNow;
  }
  return obj;
}

const MAX_SERIES = 100_000;
const ENDPOINT_NAMES = Array.from({ length: MAX_SERIES }, (_, i) => `/v1/endpoint/${i}`);
const PROVIDER_NAMES = Array.from({ length: 16 }, (_, i) => `provider-${i}`);
const MODEL_NAMES = Array.from({ length: 64 }, (_, i) => `model-${i}`);
const LAT = Array.from({ length: 4099 }, latency);
const CODES = Array.from({ length: 101 }, status);
const OBS_PER_SERIES = 20;

const exportOurs = (o) => o.exporter.export();
const exportProm = (o) => o.register.metrics();

/** Max event-loop delay (ms) while `fn` runs, sampled every 1 ms. */
async function loopBlocking(fn) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await sleep(5);
  const t0 = nowNs();
  const body = await fn();
  const wallMs = elapsedNs(t0) / 1e6;
  await sleep(5);
  h.disable();
  return { maxMs: h.max / 1e6, wallMs, bytes: Buffer.byteLength(body) };
}

/** A figure that must exist: a missing or empty peer result stops the bench instead of giving a ratio against nothing. */
function need(x, what) {
  if (!Number.isFinite(x) || x <= 0) throw new Error(`bench: no result for ${what} (got ${x})`);
  return x;
}
const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), samples: xs });

const SCALE_SIZES = [50, 500, 5_000];
const SCALE_OBS = 300;
const OPENMETRICS = prom.Registry.OPENMETRICS_CONTENT_TYPE;
const PROM_TEXT = prom.Registry.PROMETHEUS_CONTENT_TYPE;

/** Records over `n` endpoints picked at random, each endpoint with the provider and model that populate() gives it. */
function scaleInputs(n) {
  const cols = inputColumns(n);
  for (let i = 0; i < INPUT_LEN; i++) {
    const e = Math.floor(rand() * n);
    cols.endpoint[i] = ENDPOINT_NAMES[e];
    cols.provider[i] = PROVIDER_NAMES[e % PROVIDER_NAMES.length];
    cols.model[i] = MODEL_NAMES[e % MODEL_NAMES.length];
    cols.latency[i] = latency();
    cols.status[i] = status();
  }
  return cols;
}

/**
 * Export and record at a busy gateway's sizes: 50, 500 and 5,000 endpoints, each series holding SCALE_OBS
 * lognormal latencies (with 16 providers and 64 models), ours against the prom-client peer of makeProm(false).
 * Export first (text 0.0.4, OpenMetrics, protobuf, and the async text buffer /metrics sends), on freshly populated
 * states; then record into the same states, with endpoints picked at random.
 */
async function benchAtScale() {
  const out = {};
  for (const n of SCALE_SIZES) {
    const loadStart = (await import('node:os')).loadavg();
    const ours = populate('ours', n, SCALE_OBS);
    const theirs = populate('prom-client', n, SCALE_OBS);
    const promAs = async (type) => {
      theirs.register.setContentType(type);
      try {
        return await theirs.register.metrics();
      } finally {
        theirs.register.setContentType(PROM_TEXT);
      }
    };
    const fns = {
      'ours text': () => ours.exporter.export(),
      'ours openmetrics': () => ours.exporter.exportOpenMetrics(),
      'ours protobuf': () => ours.exporter.exportProtobuf(),
      'ours text, async buffer': () => ours.exporter.exportAsyncBuffer('text'),
      'prom-client text': () => promAs(PROM_TEXT),
      'prom-client openmetrics': () => promAs(OPENMETRICS),
    };
    const ms = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
    const bytes = {};
    for (const k of Object.keys(fns)) for (let w = 0; w < 2; w++) await fns[k]();
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of rotate(Object.keys(fns), r)) {
        const t0 = nowNs();
        const body = await fns[k]();
        ms[k].push(elapsedNs(t0) / 1e6);
        bytes[k] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
        await sleep(5);
      }
    }
    const exp = {};
    for (const k of Object.keys(fns)) {
      need(bytes[k], `${k} bytes at ${n} endpoints`);
      exp[k] = { ...spread(ms[k].map((x) => need(x, `${k} at ${n} endpoints`))), bytes: bytes[k] };
      log(
        `  scale ${n}: export ${k}: ${exp[k].median.toFixed(2)} ms (${exp[k].min.toFixed(2)}-${exp[k].max.toFixed(2)}), ${bytes[k]} B`,
      );
    }
    const rec = await benchRecord(`${n} endpoints x ${SCALE_OBS} latencies`, scaleInputs(n), [
      { name: 'ours', make: () => ours, run: runOurs },
      { name: 'prom-client', make: () => theirs, run: runProm },
    ]);
    for (const k of Object.keys(rec)) {
      Object.assign(rec[k], spread(rec[k].samples.map((x) => need(x, `record ${k} at ${n} endpoints`))));
    }
    out[n] = { export: exp, record: rec, loadavg: { start: loadStart, end: (await import('node:os')).loadavg() } };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run.

const pkgVersion = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
/** The commit measured, and whether core/exporter sources differed from it (dist is built from the working tree). */
function sourceState() {
  const git = (...a) => spawnSync('git', a, { cwd: here, encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    commit: git('rev-parse', 'HEAD'),
    uncommittedCoreOrExporterChanges:
      git('status', '--porcelain', '--', '../packages/metrics-core', '../packages/metrics-exporter') !== '',
  };
}
const results = {
  date: new Date().toISOString(),
  command: 'npx -y pnpm@12.4.2 bench',
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    loadavgAtStart: (await import('node:os')).loadavg(),
  },
  versions: {
    'prom-client': pkgVersion('prom-client'),
    '@opentelemetry/sdk-metrics': pkgVersion('@opentelemetry/sdk-metrics'),
    '@opentelemetry/api': pkgVersion('@opentelemetry/api'),
  },
  source: sourceState(),
  rounds: ROUNDS,
  record: {},
  export: {},
  memory: {},
  eventLoop: {},
};

log(`rounds: ${ROUNDS}`);
const ALL_SECTIONS = ['record', 'scale', 'classic', 'memory100k'];
const onlyAt = process.argv.indexOf('--only');
const SECTIONS = new Set(onlyAt > 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : ALL_SECTIONS);
for (const x of SECTIONS)
  if (!ALL_SECTIONS.includes(x)) throw new Error(`bench: unknown section "${x}" (${ALL_SECTIONS})`);
const PARTIAL = SECTIONS.size < ALL_SECTIONS.length;
const impls = [
  { name: 'ours', make: () => makeOurs(), run: runOurs },
  { name: 'prom-client', make: () => makeProm(false), run: runProm },
  { name: 'prom-client (full)', make: () => makeProm(true), run: runProm },
  { name: 'otel', make: makeOtel, run: runOtel },
];
if (SECTIONS.has('record')) {
  results.record['1'] = await benchRecord('1 series', makeInputs(1, 1, 1), impls);
  results.record['1000'] = await benchRecord('1000 series', makeInputs(10, 10, 10), impls);
}

if (SECTIONS.has('scale')) results.scale = await benchAtScale();

for (const n of SECTIONS.has('classic') ? [1_000, 10_000] : []) {
  const reps = n >= 10_000 ? 2 : 3;
  const mem = { ours: [], 'prom-client': [], 'ours (full window)': [], 'prom-client (full window)': [] };
  let kept = {};
  for (let r = 0; r < reps; r++) {
    for (const key of rotate(Object.keys(mem), r)) {
      const kind = key.startsWith('ours') ? 'ours' : 'prom-client';
      const spread = key.endsWith('(full window)');
      if (!spread) kept[kind] = undefined;
      const before = heap();
      let obj = populate(kind, n, OBS_PER_SERIES, spread);
      mem[key].push(perSeries(before, heap(), n));
      if (!spread) kept[kind] = obj;
      obj = undefined;
    }
  }
  results.memory[n] = {};
  for (const key of Object.keys(mem)) {
    const js = mem[key].map((m) => m.js);
    const all = mem[key].map((m) => m.all);
    results.memory[n][key] = {
      median: median(js),
      samples: js,
      withArrayBuffers: { median: median(all), samples: all },
    };
    log(
      `  memory ${n} ${key}: ${median(js).toFixed(0)} B/series on the JS heap, ${median(all).toFixed(0)} with ArrayBuffers`,
    );
  }

  const exp = { ours: { ms: [], bytes: 0 }, 'prom-client': { ms: [], bytes: 0 } };
  const fns = { ours: exportOurs, 'prom-client': exportProm };
  for (const kind of Object.keys(fns)) {
    for (let w = 0; w < 2; w++) await fns[kind](kept[kind]);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of rotate(Object.keys(fns), r)) {
      const t0 = nowNs();
      const body = await fns[kind](kept[kind]);
      exp[kind].ms.push(elapsedNs(t0) / 1e6);
      exp[kind].bytes = Buffer.byteLength(body);
      await sleep(5);
    }
  }
  results.export[n] = {};
  for (const kind of Object.keys(exp)) {
    results.export[n][kind] = { median: median(exp[kind].ms), samples: exp[kind].ms, bytes: exp[kind].bytes };
    log(`  export ${n} ${kind}: ${median(exp[kind].ms).toFixed(2)} ms, ${exp[kind].bytes} bytes`);
  }

  if (n === 10_000) {
    const loops = {
      idle: () => sleep(20).then(() => ''),
      'ours exportAsync': (o) => o.exporter.exportAsyncBuffer('text'),
      'ours export (sync)': async (o) => o.exporter.export(),
      'prom-client': exportProm,
    };
    const owner = {
      'ours exportAsync': 'ours',
      'ours export (sync)': 'ours',
      'prom-client': 'prom-client',
      idle: 'ours',
    };
    const samples = Object.fromEntries(Object.keys(loops).map((k) => [k, { maxMs: [], wallMs: [], bytes: 0 }]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of rotate(Object.keys(loops), r)) {
        const s = await loopBlocking(() => loops[k](kept[owner[k]]));
        samples[k].maxMs.push(s.maxMs);
        samples[k].wallMs.push(s.wallMs);
        samples[k].bytes = s.bytes;
        await sleep(10);
      }
    }
    for (const k of Object.keys(samples)) {
      const s = samples[k];
      results.eventLoop[k] = {
        maxMs: median(s.maxMs),
        wallMs: median(s.wallMs),
        samplesMaxMs: s.maxMs,
        bytes: s.bytes,
      };
      log(`  event loop ${k}: max delay ${median(s.maxMs).toFixed(1)} ms, wall ${median(s.wallMs).toFixed(1)} ms`);
    }
  }
  kept = {};
}
// Memory at 100k latency series (one sub-window, one run each): what a very large gateway holds.
if (SECTIONS.has('memory100k')) {
  const n = 100_000;
  results.memory[n] = {};
  for (const kind of ['ours', 'prom-client']) {
    const before = heap();
    // Held by a global until measured: V8 may collect a local that is never read again before heap() runs.
    globalThis.benchKeep = populate(kind, n, OBS_PER_SERIES);
    const m = perSeries(before, heap(), n);
    globalThis.benchKeep = undefined;
    results.memory[n][kind] = {
      median: need(m.js, `${kind} heap at ${n} series`),
      samples: [m.js],
      withArrayBuffers: { median: need(m.all, `${kind} memory at ${n} series`), samples: [m.all] },
    };
    log(`  memory ${n} ${kind}: ${m.js.toFixed(0)} B/series on the JS heap, ${m.all.toFixed(0)} with ArrayBuffers`);
  }
}
results.machine.loadavgAtEnd = (await import('node:os')).loadavg();

// ---------------------------------------------------------------------------------------------
// Report.

const f = (x, d = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a';
const ratio = (theirs, ours) => `${f(theirs / ours, 1)}×`;
// At scale: one row per size, with the spread over rounds.
const range = (m, d) => `${f(m.median, d)} (${f(m.min, d)}–${f(m.max, d)})`;
results.targets = {};
if (SECTIONS.has('scale')) {
  const scaleRows = [];
  for (const n of SCALE_SIZES) {
    const { export: e, record: rec } = results.scale[n];
    scaleRows.push([
      f(n),
      range(rec.ours, 0),
      range(rec['prom-client'], 0),
      ratio(rec['prom-client'].median, rec.ours.median),
      range(e['ours text'], 2),
      range(e['prom-client text'], 2),
      ratio(e['prom-client text'].median, e['ours text'].median),
      range(e['ours openmetrics'], 2),
      range(e['prom-client openmetrics'], 2),
      ratio(e['prom-client openmetrics'].median, e['ours openmetrics'].median),
      range(e['ours protobuf'], 2),
      range(e['ours text, async buffer'], 2),
      `${f(e['ours text'].bytes)} / ${f(e['prom-client text'].bytes)}`,
    ]);
  }
  const scaleTable = [
    `| endpoints (× ${SCALE_OBS} latencies) | record ns/op, ours | prom-client | ratio | text export ms, ours | prom-client | ratio | OpenMetrics ms, ours | prom-client | ratio | protobuf ms, ours | text, async buffer ms, ours | text bytes, ours / prom-client |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...scaleRows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  results.scaleTable = scaleTable;
  const worst = (fn) => Math.min(...SCALE_SIZES.map((n) => fn(results.scale[n])));
  const scaleRecord5k = results.scale[5000].record;
  results.targets['record >= 10x faster at 5,000 endpoints'] = {
    ratio: scaleRecord5k['prom-client'].median / scaleRecord5k.ours.median,
  };
  results.targets['export >= 5x faster at 50/500/5,000 endpoints, text'] = {
    worstRatio: worst((s) => s.export['prom-client text'].median / s.export['ours text'].median),
  };
  results.targets['export >= 5x faster at 50/500/5,000 endpoints, OpenMetrics'] = {
    worstRatio: worst((s) => s.export['prom-client openmetrics'].median / s.export['ours openmetrics'].median),
  };
  for (const v of Object.values(results.targets)) v.met = (v.ratio ?? v.worstRatio) >= (v.ratio ? 10 : 5);
  console.log(`\n${scaleTable}\n`);
}

let table = '';
const rows = [];
if (SECTIONS.has('record')) {
  for (const n of ['1', '1000']) {
    const r = results.record[n];
    const ours = r.ours.median;
    const label = n === '1' ? '1 series' : '1,000 interleaved series';
    rows.push([`record, ns/op, ${label}`, f(ours), f(r['prom-client'].median), ratio(r['prom-client'].median, ours)]);
    rows.push([
      `record, ns/op, ${label}, prom-client full / OTel`,
      '',
      `${f(r['prom-client (full)'].median)} / ${f(r.otel.median)}`,
      `${ratio(r['prom-client (full)'].median, ours)} / ${ratio(r.otel.median, ours)}`,
    ]);
  }
  const recordTarget = Math.min(
    ...['1', '1000'].map((n) => results.record[n]['prom-client'].median / results.record[n].ours.median),
  );
  results.targets['record >= 10x faster'] = { worstRatio: recordTarget, met: recordTarget >= 10 };
}
if (SECTIONS.has('classic')) {
  for (const n of ['1000', '10000']) {
    const e = results.export[n];
    const label = n === '1000' ? '1k' : '10k';
    rows.push([
      `export, ms, ${label} series`,
      f(e.ours.median, 2),
      f(e['prom-client'].median, 2),
      ratio(e['prom-client'].median, e.ours.median),
    ]);
    rows.push([
      `export, bytes, ${label} series`,
      f(e.ours.bytes),
      f(e['prom-client'].bytes),
      ratio(e['prom-client'].bytes, e.ours.bytes),
    ]);
  }
  for (const n of ['1000', '10000']) {
    const m = results.memory[n];
    const label = n === '1000' ? '1k' : '10k';
    rows.push([
      `heap, bytes per latency series, ${label}, one sub-window`,
      f(m.ours.median),
      f(m['prom-client'].median),
      ratio(m['prom-client'].median, m.ours.median),
    ]);
    const o = m['ours (full window)'].median;
    const t = m['prom-client (full window)'].median;
    rows.push([`heap, bytes per latency series, ${label}, all 5 sub-windows hold data`, f(o), f(t), ratio(t, o)]);
    for (const key of ['ours', 'ours (full window)']) {
      const peer = key.replace('ours', 'prom-client');
      const a = m[key].withArrayBuffers.median;
      const b = m[peer].withArrayBuffers.median;
      const which = key === 'ours' ? 'one sub-window' : 'all 5 sub-windows hold data';
      rows.push([`  same with ArrayBuffer stores (heap + arrayBuffers), ${label}, ${which}`, f(a), f(b), ratio(b, a)]);
    }
  }
}
if (SECTIONS.has('memory100k')) {
  {
    const m = results.memory[100000];
    rows.push([
      'heap, bytes per latency series, 100k, one sub-window (one run)',
      f(m.ours.median),
      f(m['prom-client'].median),
      ratio(m['prom-client'].median, m.ours.median),
    ]);
    const a = m.ours.withArrayBuffers.median;
    const b = m['prom-client'].withArrayBuffers.median;
    rows.push(['  same with ArrayBuffer stores, 100k, one sub-window (one run)', f(a), f(b), ratio(b, a)]);
    rows.push([
      'memory, MiB in all (heap + ArrayBuffers), 100k latency series',
      f((a * 1e5) / 2 ** 20),
      f((b * 1e5) / 2 ** 20),
      '',
    ]);
  }
}
if (SECTIONS.has('classic')) {
  const el = results.eventLoop;
  rows.push([
    'max event-loop delay, ms, 10k-series scrape (ours: exportAsyncBuffer, what /metrics sends)',
    f(el['ours exportAsync'].maxMs, 1),
    f(el['prom-client'].maxMs, 1),
    ratio(el['prom-client'].maxMs, el['ours exportAsync'].maxMs),
  ]);
  rows.push([
    '  same, ours sync export() / idle loop baseline',
    `${f(el['ours export (sync)'].maxMs, 1)} / ${f(el.idle.maxMs, 1)}`,
    '',
    '',
  ]);
  rows.push([
    'scrape wall time, ms, 10k series (ours: exportAsyncBuffer)',
    f(el['ours exportAsync'].wallMs, 1),
    f(el['prom-client'].wallMs, 1),
    ratio(el['prom-client'].wallMs, el['ours exportAsync'].wallMs),
  ]);
  const exportTarget = Math.min(
    ...['1000', '10000'].map((n) => results.export[n]['prom-client'].median / results.export[n].ours.median),
  );
  Object.assign(results.targets, {
    'export >= 5x faster': { worstRatio: exportTarget, met: exportTarget >= 5 },
    'scrape blocking < 10 ms': { maxMs: el['ours exportAsync'].maxMs, met: el['ours exportAsync'].maxMs < 10 },
  });
}
if (rows.length > 0) {
  table = [
    '| measure (median of runs) | ours | prom-client | ratio theirs/ours |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  results.table = table;
}

if (table) console.log(`\n${table}\n`);
console.log(
  `machine: ${results.machine.cpu}, ${results.machine.cores} cores; node ${process.version}; ` +
    `prom-client ${results.versions['prom-client']}; @opentelemetry/sdk-metrics ${results.versions['@opentelemetry/sdk-metrics']}; ` +
    `load avg ${results.machine.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')} -> ${results.machine.loadavgAtEnd.map((x) => x.toFixed(2)).join(' ')}`,
);
for (const [k, v] of Object.entries(results.targets))
  console.log(`target ${k}: ${v.met ? 'met' : 'NOT met'} (${JSON.stringify(v)})`);

if (!args.has('--no-write')) {
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', PARTIAL ? 'partial-latest.json' : 'latest.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
}
