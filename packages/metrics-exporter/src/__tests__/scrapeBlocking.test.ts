import { MetricsCollector } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES, PrometheusExporter, renderProtobuf } from '../index.js';
import { ProtobufWriter } from '../protobufFormat.js';
import { decodeDelimited } from './helpers/protobuf.js';

// Not a benchmark (docs/BENCHMARKS.md has the figures): a guard that the export `/metrics` serves never holds
// the event loop for the whole of a large scrape. Relative to the synchronous export of the same 10k series,
// measured in the same run, so a slow or busy machine does not make it fail.
it('a 10k-series async export keeps handing the event loop back', async () => {
  const c = new MetricsCollector({ runtimeMetrics: false, limits: { endpoints: 10_010 } });
  for (let i = 0; i < 10_000; i++) {
    for (let k = 0; k < 5; k++) {
      c.recordRequest({
        endpoint: `/api/e${i}`,
        method: 'GET',
        latencySeconds: 0.01 + ((i * 31 + k * 17) % 1000) / 2000,
        statusCode: 200,
      });
    }
  }
  const e = new PrometheusExporter(c);
  e.export();
  const t0 = performance.now();
  const sync = e.export();
  const syncMs = performance.now() - t0;

  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const body = await e.exportAsyncBuffer('text');
  running = false;

  expect(body.length).toBeGreaterThan(0.9 * Buffer.byteLength(sync));
  expect(ticks).toBeGreaterThan(20);
  expect(maxGap).toBeLessThan(syncMs / 3);
  console.log(
    `10k series: sync export ${syncMs.toFixed(0)} ms; async export: ${ticks} yields, longest hold ${maxGap.toFixed(1)} ms`,
  );
});

/** Counts the event-loop turns (setImmediate callbacks) that run while `work` is pending. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const value = await work();
  running = false;
  return { value, turns };
}

describe('the protobuf export renders in slices', () => {
  // A fixed clock: the sliced render reads the state later than the synchronous one, yet must give the same bytes.
  const now = 1_700_000_000_000;
  const c = new MetricsCollector({ runtimeMetrics: false, now: () => now, limits: { endpoints: 10_010 } });
  for (let i = 0; i < 10_000; i++) {
    for (let k = 0; k < 5; k++) {
      c.recordRequest({
        endpoint: `/api/e${i}`,
        method: k % 2 ? 'GET' : 'POST',
        latencySeconds: 0.01 + ((i * 31 + k * 17) % 1000) / 2000,
        statusCode: k === 4 ? 500 : 200,
        provider: `p${i % 3}`,
      });
    }
  }

  it('gives the event loop turns and writes the bytes of the synchronous render (collector with stateSlices)', async () => {
    const sync = renderProtobuf(c.state());
    const { value, turns } = await turnsDuring(() => new PrometheusExporter(c).exportProtobuf());
    expect(turns).toBeGreaterThan(20);
    expect(Buffer.compare(value, Buffer.from(sync))).toBe(0);
  });

  it('does the same for a source that has only state()', async () => {
    const state = c.state();
    const sync = renderProtobuf(state);
    const { value, turns } = await turnsDuring(() => new PrometheusExporter({ state: () => state }).exportProtobuf());
    expect(turns).toBeGreaterThan(20);
    expect(Buffer.compare(value, Buffer.from(sync))).toBe(0);
  });

  it('ends a family of 10k metrics in steps of at most a chunk, not in one copy', () => {
    // Before: the family's end was one synchronous step that copied all its metrics twice (~40 ms at 10k series).
    const w = new ProtobufWriter();
    w.family(METRIC_FAMILIES.duration);
    const bounds = [0.1, 1];
    for (let i = 0; i < 10_000; i++) {
      w.histogram(w.labels([], ['endpoint'], [`/api/e${i}`]), { bounds, buckets: [i % 7, 1, 2], sum: i, count: 0 });
    }
    w.endFamily();
    const gen = w.assemble();
    let steps = 0;
    let r = gen.next();
    while (!r.done) {
      steps++;
      r = gen.next();
    }
    const bytes = r.value;
    expect(bytes.length).toBeGreaterThan(500_000);
    // One step per chunk of about 64 KiB.
    expect(steps).toBeGreaterThanOrEqual(Math.floor(bytes.length / (72 * 1024)));
    const [family, ...rest] = decodeDelimited(bytes);
    expect(rest).toEqual([]);
    expect(family?.name).toBe(METRIC_FAMILIES.duration.name);
    expect(family?.metrics.length).toBe(10_000);
  });
});

it("a small protobuf render's bytes own their ArrayBuffer (not a slice of Buffer's shared pool)", () => {
  const bytes = renderProtobuf(new MetricsCollector({ runtimeMetrics: false }).state());
  expect(bytes.length).toBeGreaterThan(0);
  expect(bytes.length).toBeLessThan(4096);
  expect(bytes.byteOffset).toBe(0);
  expect(bytes.buffer.byteLength).toBe(bytes.length);
});
