// What sets off the major GCs during a large scrape: 20 iterations of one job over the bench/scrape-blocking.mjs state
// (10k endpoint series x 200 latencies), counting mark-compacts (PerformanceObserver 'gc'). Jobs:
//   slices          the collector's stateSlices() walked in 2 ms slices (the core's part of every sliced render), no output
//   slices+buffer N the same, plus one fresh N-byte Buffer per iteration (what a render hands back), kept until the next
//   idle+buffer N   no walk: 60 event-loop turns, then one fresh N-byte Buffer
//   protobuf | protobuf-gzip | text   the exporter's exportProtobuf(), exportProtobufGzip(), exportAsyncBuffer('text')
// Run (after building the packages): node bench/gc-triggers.mjs <job> [N]
import { PerformanceObserver } from 'node:perf_hooks';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import { scrapeState } from './scrape-state.mjs';

const [job = 'slices', bytesArg = '12000000'] = process.argv.slice(2);
const N = Number(bytesArg);
const c = scrapeState();
const e = new PrometheusExporter(c);
const turn = () => new Promise((r) => setImmediate(r));
async function walk() {
  let t = performance.now();
  for (const _ of c.stateSlices({ batchSize: 32 })) {
    if (performance.now() - t >= 2) {
      await turn();
      t = performance.now();
    }
  }
}
const jobs = {
  slices: walk,
  'slices+buffer': async () => {
    await walk();
    return Buffer.allocUnsafeSlow(N);
  },
  'idle+buffer': async () => {
    for (let i = 0; i < 60; i++) await turn();
    return Buffer.allocUnsafeSlow(N);
  },
  protobuf: () => e.exportProtobuf(),
  'protobuf-gzip': () => e.exportProtobufGzip(),
  text: () => e.exportAsyncBuffer('text'),
};
const run = jobs[job];
if (run === undefined) throw new Error(`unknown job ${job}: one of ${Object.keys(jobs).join(', ')}`);
// Each result is kept until the next one replaces it, as a scrape's body lives until the next scrape.
globalThis.kept = await run(); // warm-up, twice
globalThis.kept = await run();
let majors = 0;
let majorMs = 0;
let longest = 0;
new PerformanceObserver((list) => {
  for (const x of list.getEntries()) {
    if (x.detail?.kind === 4 || x.detail?.kind === 8) {
      majors++;
      majorMs += x.duration;
      longest = Math.max(longest, x.duration);
    }
  }
}).observe({ entryTypes: ['gc'] });
for (let i = 0; i < 20; i++) {
  globalThis.kept = await run();
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 10));
const what = job.endsWith('+buffer') ? `${job} ${N}` : job;
console.log(
  `${what}: ${majors} mark-compacts in 20 iterations, ${majorMs.toFixed(0)} ms in all, longest ${longest.toFixed(1)} ms`,
);
