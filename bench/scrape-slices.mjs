// The longest stretch between two of a render's event-loop turns, render by render: the bench/scrape-blocking.mjs
// state (10k endpoint series x 200 latencies) rendered 12 times in one format. Run it under `node --trace-gc` to see
// which renders a mark-compact or a long scavenge landed in (each render is bracketed by `--- render N` lines).
// Run (after building the packages): node --trace-gc bench/scrape-slices.mjs [protobuf|protobuf-gzip|text|openmetrics]
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import { scrapeState } from './scrape-state.mjs';

const RENDERS = 12;
const c = scrapeState();
const e = new PrometheusExporter(c);
const format = process.argv[2] ?? 'protobuf';
const renders = {
  protobuf: () => e.exportProtobuf(),
  'protobuf-gzip': async () => (await e.exportProtobufGzip()).body,
  text: () => e.exportAsyncBuffer('text'),
  openmetrics: () => e.exportAsyncBuffer('openmetrics'),
};
const render = renders[format];
if (render === undefined) throw new Error(`unknown format ${format}: one of ${Object.keys(renders).join(', ')}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let r = 0; r < RENDERS; r++) {
  let last = performance.now();
  let longest = 0;
  let stop = false;
  const turn = () => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
    if (!stop) setImmediate(turn);
  };
  setImmediate(turn);
  console.log(`--- render ${r} start`);
  const t0 = performance.now();
  const body = await render();
  stop = true;
  if (body.length === 0) throw new Error('empty body');
  console.log(
    `--- render ${r} end: wall ${(performance.now() - t0).toFixed(0)} ms, longest stretch ${longest.toFixed(1)} ms`,
  );
  await sleep(20);
}
