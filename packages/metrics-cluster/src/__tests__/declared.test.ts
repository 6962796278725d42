import { Worker } from 'node:worker_threads';
import { MetricsCollector, reviveState } from '@gatewayz/metrics-core';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { strictOpenMetrics } from '../../../../test-utils/src/openmetrics.js';
import { ClusterAggregator } from '../index.js';
// @ts-expect-error: a plain .mjs fixture, shared with the worker threads
import { declare } from './fixtures/declare-family.mjs';

/**
 * Issue 10: a family is one declaration in one place. The fixture declares four families at run time (a
 * counter, a max-merged gauge, a per-instance gauge, a histogram with window views); nothing else in any package
 * knows them, yet text, OpenMetrics, protobuf, JSON and a 3-worker merge all carry them.
 */
const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

describe('a family declared at run time', () => {
  const c = new MetricsCollector({ runtimeMetrics: false });
  declare(c, 2);
  const e = new PrometheusExporter(c);

  it('is in the 0.0.4 text with HELP, TYPE, samples, buckets and window views', () => {
    const t = e.export();
    expect(t).toContain('# HELP jobs_done_total Jobs done.\n# TYPE jobs_done_total counter\n');
    expect(line(t, 'jobs_done_total{queue="a"}')).toBe('jobs_done_total{queue="a"} 3');
    expect(line(t, 'jobs_done_total{queue="b"}')).toBe('jobs_done_total{queue="b"} 1');
    expect(line(t, 'job_queue_depth')).toBe('job_queue_depth 30');
    expect(t).toContain('# TYPE job_duration_seconds histogram\n');
    expect(line(t, 'job_duration_seconds_bucket{queue="a",le="0.5"}')).toMatch(/ 3$/);
    expect(line(t, 'job_duration_seconds_bucket{queue="b",le="1"}')).toMatch(/ 0$/);
    expect(line(t, 'job_duration_seconds_bucket{queue="b",le="+Inf"}')).toMatch(/ 1$/);
    expect(line(t, 'job_duration_seconds_count{queue="a"}')).toMatch(/ 3$/);
    expect(t).toContain('# TYPE job_duration_avg_seconds gauge\n');
    expect(line(t, 'job_duration_max_seconds{queue="b"}')).toBe('job_duration_max_seconds{queue="b"} 2');
    expect(Number(line(t, 'job_duration_p50_seconds{queue="a"}')!.split(' ')[1])).toBeCloseTo(0.1, 2);
  });

  it('passes the strict OpenMetrics parser, the counter family named without _total', () => {
    const families = strictOpenMetrics(e.exportOpenMetrics());
    const byName = new Map(families.map((f) => [f[0], f]));
    expect(byName.get('jobs_done')?.[1]).toBe('counter');
    expect(byName.get('jobs_done')?.[2]).toContainEqual(['jobs_done_total', { queue: 'a' }, '3']);
    expect(byName.get('job_duration_seconds')?.[1]).toBe('histogram');
    expect(byName.get('job_worker_load')?.[2]).toEqual([['job_worker_load', {}, '2']]);
  });

  it('is in the protobuf exposition, the histogram with native buckets at the collector scale', async () => {
    const { decodeDelimited } = await import('../../../metrics-exporter/src/__tests__/helpers/protobuf.js');
    const fams = decodeDelimited(await e.exportProtobuf());
    const jobs = fams.find((f) => f.name === 'jobs_done_total')!;
    expect(jobs.type).toBe(0);
    expect(jobs.metrics.map((m) => [m.labels, m.counter])).toEqual([
      [{ queue: 'a' }, 3],
      [{ queue: 'b' }, 1],
    ]);
    const h = fams.find((f) => f.name === 'job_duration_seconds')!;
    expect(h.type).toBe(4);
    expect(h.metrics[0]!.histogram).toMatchObject({ count: 3, schema: 6 });
    expect(fams.find((f) => f.name === 'job_queue_depth')!.metrics[0]!.gauge).toBe(30);
  });

  it('is in the JSON view and survives JSON (reviveState)', () => {
    const j = e.snapshot();
    const jobs = j.families!.find((f) => f.name === 'jobs_done_total')!;
    expect(jobs.series).toEqual([
      { labels: { queue: 'a' }, value: 3 },
      { labels: { queue: 'b' }, value: 1 },
    ]);
    const h = j.families!.find((f) => f.name === 'job_duration_seconds')!;
    expect(h.series[1]).toMatchObject({ labels: { queue: 'b' }, count: 1, sum: 2, window: { max: 2 } });
    const revived = reviveState(JSON.parse(JSON.stringify(c.state())));
    const strip = (t: string) => t.replace(/^gatewayz_uptime_seconds .*$/m, '');
    expect(strip(new PrometheusExporter({ state: () => revived }).export())).toBe(strip(e.export()));
  });
});

describe('three worker threads', () => {
  const url = new URL('./fixtures/declared-worker.mjs', import.meta.url);
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('merge any declared family without the cluster knowing it', async () => {
    const aggregator = new ClusterAggregator({ timeoutMs: 5000 });
    for (const k of [0, 1, 2]) {
      const w = new Worker(url, { workerData: { k } });
      workers.push(w);
      await new Promise<void>((resolve) => w.once('message', () => resolve()));
      aggregator.addWorker(w);
    }
    const text = new PrometheusExporter(aggregator);
    const t = await text.exportAsync();
    // Counters sum: queue a saw 1 + 2 + 3 jobs, queue b one per worker.
    expect(line(t, 'jobs_done_total{queue="a"}')).toBe('jobs_done_total{queue="a"} 6');
    expect(line(t, 'jobs_done_total{queue="b"}')).toBe('jobs_done_total{queue="b"} 3');
    // The gauge declared merge: 'max'.
    expect(line(t, 'job_queue_depth')).toBe('job_queue_depth 30');
    // Per instance: one series per worker, never summed.
    const loads = t.split('\n').filter((l) => l.startsWith('job_worker_load{'));
    expect(loads).toHaveLength(3);
    expect(loads.map((l) => Number(l.split(' ')[1])).sort()).toEqual([0, 1, 2]);
    expect(loads.every((l) => /worker="thread:\d+"/.test(l))).toBe(true);
    // Runtime families are per instance too: RSS is never added up across workers.
    expect(t.split('\n').filter((l) => l.startsWith('process_resident_memory_bytes{worker="thread:'))).toHaveLength(3);
    // Histograms and their sketches merge exactly: queue b observed 0, 1 and 2 s.
    expect(line(t, 'job_duration_seconds_count{queue="b"}')).toMatch(/ 3$/);
    expect(line(t, 'job_duration_seconds_sum{queue="b"}')).toMatch(/ 3$/);
    expect(line(t, 'job_duration_seconds_bucket{queue="b",le="1"}')).toMatch(/ 2$/);
    expect(line(t, 'job_duration_max_seconds{queue="b"}')).toBe('job_duration_max_seconds{queue="b"} 2');
    const merged = await aggregator.state();
    const h = merged.families!.find((f) => f.name === 'job_duration_seconds')!;
    expect(h.series.find((s) => s.labels[0] === 'a')!.native!.count).toBe(6);
    expect(strictOpenMetrics(await text.exportAsync('openmetrics')).some((f) => f[0] === 'jobs_done')).toBe(true);
  });
});
