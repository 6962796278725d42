// Event-loop blocking during a large scrape, on the paths the /metrics handlers use: exportAsyncBuffer('text'),
// exportAsyncBuffer('openmetrics'), exportProtobuf(), and a whole protobuf + gzip scrape through the handlers (what
// Prometheus asks for; the body is compressed as it is rendered). A 10k-endpoint state (each series holding a few hundred
// latencies); 10 rounds, each round scraping every format in turn (in an order rotated each round) (so a busy spell on the machine hits them alike);
// reports the longest event-loop block per scrape and whether it is <= 10 ms in at least 9 of 10 rounds (the target).
// A control runs in the same rounds: a task that holds the loop 2 ms at a time (the exporter's slice) for 100
// slices and allocates nothing, the floor this machine puts under any sliced render. On Linux, each scrape also
// reports how long the main thread waited for a CPU while runnable (/proc/thread-self/schedstat): time other
// processes, or this one's GC threads, took from it.
// Run (after building the packages): node bench/scrape-blocking.mjs [series] [latenciesPerSeries]
// Exits non-zero when a scrape fails or yields an empty body; missing the target is reported, not an error.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMetricsHandlers, PrometheusExporter } from '@gatewayz/metrics-exporter';
import { scrapeState } from './scrape-state.mjs';

const N = Number(process.argv[2] ?? 10_000);
const PER = Number(process.argv[3] ?? 200);
const ROUNDS = 10;
const TARGET_MS = 10;
const c = scrapeState(N, PER);
const e = new PrometheusExporter(c);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Nanoseconds the main thread has waited on a run queue, or undefined where /proc has no schedstat. */
const runqNs = () => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]);
  } catch {
    return undefined;
  }
};

async function measure(fn) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const tick = setInterval(() => {}, 1); // a ticking timer makes the histogram see each blocked stretch
  h.enable();
  await sleep(5); // the histogram measures from its first timer tick on
  const q0 = runqNs();
  const t0 = performance.now();
  const out = await fn();
  const wallMs = performance.now() - t0;
  const q1 = runqNs();
  await sleep(5); // let the timer fire once more, so a block at the very end is recorded too
  h.disable();
  clearInterval(tick);
  if (!out || out.length === 0) throw new Error('scrape returned an empty body');
  return { maxMs: h.max / 1e6, wallMs, bytes: out.length, runqMs: q0 === undefined ? Number.NaN : (q1 - q0) / 1e6 };
}

/** The control: 100 slices of 2 ms of busy work with a setImmediate between them; allocates nothing. */
async function control() {
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    while (performance.now() - t < 2);
    await new Promise((r) => setImmediate(r));
  }
  return { length: 1 };
}

// What Prometheus asks the handlers for: protobuf (with native histograms), gzip.
const handlers = createMetricsHandlers({ exporter: e, adminToken: null });
const PROTOBUF_GZIP = {
  method: 'GET',
  path: '/metrics',
  headers: {
    accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
    'accept-encoding': 'gzip',
  },
};
const paths = {
  text: () => e.exportAsyncBuffer('text'),
  openmetrics: () => e.exportAsyncBuffer('openmetrics'),
  protobuf: () => e.exportProtobuf(),
  'protobuf, gzip (handlers)': async () => {
    const r = await handlers.handle(PROTOBUF_GZIP);
    if (r?.status !== 200 || r.headers['content-encoding'] !== 'gzip') throw new Error('the handlers did not gzip');
    return r.body;
  },
  control,
};
console.log(
  `machine: ${cpus()[0]?.model}, ${cpus().length} cores; node ${process.version}; load avg ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `state: ${N} endpoint series x ${PER} latencies; ${ROUNDS} rounds, each scraping every format in turn (order rotated each round)`,
);
const rounds = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
for (const fn of Object.values(paths)) await fn(); // warm-up
const entries = Object.entries(paths);
for (let r = 0; r < ROUNDS; r++) {
  // Rotated each round, so no format always follows the same one (or the control).
  for (const [name, fn] of [...entries.slice(r % entries.length), ...entries.slice(0, r % entries.length)]) {
    rounds[name].push(await measure(fn));
    await sleep(20);
  }
}
let allMet = true;
for (const [name, list] of Object.entries(rounds)) {
  const blocks = list.map((x) => x.maxMs);
  const within = blocks.filter((x) => x <= TARGET_MS).length;
  const met = within >= 9;
  if (name !== 'control') allMet &&= met;
  const waited = median(list.map((x) => x.runqMs));
  console.log(
    `${name}: longest block per scrape ms min/median/max ${Math.min(...blocks).toFixed(1)}/${median(blocks).toFixed(1)}/${Math.max(...blocks).toFixed(1)}; ` +
      `wall median ${median(list.map((x) => x.wallMs)).toFixed(0)} ms; ` +
      (name === 'control' ? '' : `${(list[0].bytes / 1e6).toFixed(1)} MB; `) +
      (Number.isNaN(waited) ? '' : `main thread waited for a CPU ${waited.toFixed(0)} ms (median); `) +
      `<= ${TARGET_MS} ms in ${within}/${ROUNDS} rounds${name === 'control' ? '' : `: target ${met ? 'met' : 'NOT met'}`}`,
  );
  console.log(`  per round: ${blocks.map((x) => x.toFixed(1)).join(' ')}`);
}
console.log(`target (<= ${TARGET_MS} ms in 9 of 10 rounds, every path above): ${allMet ? 'met' : 'NOT met'}`);
console.log(
  `load avg at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
